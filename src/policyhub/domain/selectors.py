"""Label selectors in the Kubernetes style: ``env=prod,tier!=web,team,!legacy,region in (eu,us)``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from policyhub.errors import InvalidInput

_SET = re.compile(r"^\s*([^\s!=,()]+)\s+(in|notin)\s+\(([^()]*)\)\s*$")
_EQ = re.compile(r"^\s*([^\s!=,()]+)\s*(==|=|!=)\s*([^\s!=,()]*)\s*$")
_EXISTS = re.compile(r"^\s*(!?)\s*([^\s!=,()]+)\s*$")


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!exists"
    values: tuple[str, ...] = ()


def _split(selector: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for ch in selector:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return parts


def parse_selector(selector: str, field: str = "label_selector") -> tuple[Requirement, ...]:
    """Parse a selector; a malformed one is a 400 naming the offending term."""
    if not selector.strip():
        return ()
    out: list[Requirement] = []
    for term in _split(selector):
        if m := _SET.match(term):
            values = tuple(v.strip() for v in m.group(3).split(",") if v.strip())
            if not values:
                raise InvalidInput.field(field, f"{term.strip()!r}: empty value set")
            out.append(Requirement(m.group(1), m.group(2), values))
        elif m := _EQ.match(term):
            out.append(Requirement(m.group(1), "!=" if m.group(2) == "!=" else "=", (m.group(3),)))
        elif m := _EXISTS.match(term):
            out.append(Requirement(m.group(2), "!exists" if m.group(1) else "exists"))
        else:
            raise InvalidInput.field(field, f"cannot parse {term.strip()!r}")
    return tuple(out)


def matches(requirements: tuple[Requirement, ...], labels: dict[str, str]) -> bool:
    """Whether ``labels`` satisfy every requirement (used where selection happens in memory)."""
    for req in requirements:
        value = labels.get(req.key)
        ok = {
            "exists": value is not None,
            "!exists": value is None,
            "=": value == req.values[0] if req.values else False,
            "!=": value != (req.values[0] if req.values else None),
            "in": value in req.values,
            "notin": value not in req.values,
        }[req.op]
        if not ok:
            return False
    return True
