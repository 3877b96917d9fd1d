"""Specs as the console shows and reads them: YAML text, and side-by-side diffs of two texts."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from typing import Any

import yaml

from policyhub.errors import InvalidInput
from policyhub.policy_types.kosli.yaml_source import load_yaml_mapping


def to_yaml(value: Any) -> str:
    """Block YAML, keys sorted (so two versions line up key by key)."""
    if value in (None, {}):
        return "{}\n"
    return yaml.safe_dump(value, sort_keys=True, allow_unicode=True, default_flow_style=False)


def parse_spec(text: str, field: str = "spec") -> dict[str, Any]:
    """A spec typed in the browser: one YAML (or JSON) mapping, no aliases, bounded; JSON values only."""
    if not text.strip():
        return {}
    data = load_yaml_mapping(text, field)
    try:
        json.dumps(data, allow_nan=False)
    except (TypeError, ValueError):
        raise InvalidInput.field(field, "holds a value JSON cannot carry (a date or time? quote it)") from None
    return data


def parse_labels(text: str, field: str = "labels") -> dict[str, str]:
    """Labels typed one per line as ``key=value``."""
    labels: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise InvalidInput.field(field, f"line {number}: write key=value")
        labels[key.strip()] = value.strip()
    return labels


def labels_text(labels: dict[str, str]) -> str:
    return "\n".join(f"{k}={v}" for k, v in sorted(labels.items()))


@dataclass(frozen=True)
class DiffRow:
    """One row of a side-by-side diff: ``kind`` is equal, changed, removed or added."""

    kind: str
    left_no: int | None
    left: str
    right_no: int | None
    right: str


def side_by_side(old: str, new: str) -> list[DiffRow]:
    a, b = old.splitlines(), new.splitlines()
    rows: list[DiffRow] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            rows += [DiffRow("equal", i1 + k + 1, a[i1 + k], j1 + k + 1, b[j1 + k]) for k in range(i2 - i1)]
            continue
        width = max(i2 - i1, j2 - j1)
        for k in range(width):
            left = i1 + k < i2
            right = j1 + k < j2
            kind = "changed" if left and right else "removed" if left else "added"
            rows.append(
                DiffRow(
                    kind,
                    i1 + k + 1 if left else None,
                    a[i1 + k] if left else "",
                    j1 + k + 1 if right else None,
                    b[j1 + k] if right else "",
                )
            )
    return rows
