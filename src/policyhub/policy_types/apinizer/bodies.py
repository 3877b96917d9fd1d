"""Request bodies as Apinizer variables read them: JSON paths, simple XPaths, form fields.

A body is parsed once per decision (kept in the evaluation's ``memo``) and shared by every policy
that reads it.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qs

from policyhub.evaluation.compiled import Evaluation

if TYPE_CHECKING:
    from policyhub.evaluation.inputs.http_request import HttpRequestInput

Getter = Callable[[Evaluation], Any]
_MISSING = object()


def _input(evaluation: Evaluation) -> HttpRequestInput:
    return cast("HttpRequestInput", evaluation.input)


def form_fields(evaluation: Evaluation) -> dict[str, Any]:
    memo = evaluation.memo
    form = memo.get("apinizer.form")
    if form is None:
        body = _input(evaluation).body
        if isinstance(body, dict):
            form = {k: v if not isinstance(v, list) else (v[0] if v else None) for k, v in body.items()}
        elif isinstance(body, str):
            form = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
        else:
            form = {}
        memo["apinizer.form"] = form
    return cast("dict[str, Any]", form)


def json_body(evaluation: Evaluation) -> Any:
    memo = evaluation.memo
    body = memo.get("apinizer.json", _MISSING)
    if body is _MISSING:
        body = _input(evaluation).body
        if isinstance(body, str | bytes):
            try:
                body = json.loads(body)
            except ValueError:
                body = None
        memo["apinizer.json"] = body
    return body


_STEP = re.compile(
    r"\.([A-Za-z_$@][\w$@-]*)|\.\*|\[\*\]|\[(-?\d+)\]|\['((?:[^'\\]|\\.)*)'\]|\[\"((?:[^\"\\]|\\.)*)\"\]"
)
_ANY = ("*",)


def compile_json_path(path: str) -> Callable[[Any], Any]:
    """A small JSONPath (Jayway's dot/bracket notation without filters or deep scans).

    A path with a wildcard yields the list of what it reaches; otherwise the single value (or None).
    """
    source = path.strip()
    if not source.startswith("$"):
        source = "$." + source.lstrip(".")
    steps: list[tuple[Any, ...]] = []
    position = 1
    while position < len(source):
        found = _STEP.match(source, position)
        if found is None:
            raise ValueError(f"unsupported JSON path {path!r} at {source[position:]!r}")
        name, index, single, double = found.groups()
        token = found.group(0)
        if token in (".*", "[*]"):
            steps.append(_ANY)
        elif index is not None:
            steps.append(("i", int(index)))
        else:
            steps.append(("k", name if name is not None else (single if single is not None else double)))
        position = found.end()
    wildcard = _ANY in steps

    def walk(value: Any, rest: list[tuple[Any, ...]]) -> list[Any]:
        for n, step in enumerate(rest):
            if step is _ANY:
                children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
                out: list[Any] = []
                for child in children:
                    out.extend(walk(child, rest[n + 1 :]))
                return out
            by_key = step[0] == "k" and isinstance(value, dict) and step[1] in value
            by_index = step[0] == "i" and isinstance(value, list) and -len(value) <= step[1] < len(value)
            if not (by_key or by_index):
                return []
            value = value[step[1]]
        return [value]

    def evaluate(document: Any) -> Any:
        if document is None:
            return None
        found = walk(document, steps)
        if wildcard:
            return found
        return found[0] if found else None

    return evaluate


def xml_getter(xpath: str) -> Getter:
    find = _compile_xpath(xpath)

    def xml_value(ev: Evaluation) -> Any:
        memo = ev.memo
        root = memo.get("apinizer.xml", _MISSING)
        if root is _MISSING:
            body = _input(ev).body
            root = None
            if isinstance(body, str):
                try:
                    root = ET.fromstring(body)  # the stdlib parser expands no external entities
                except ET.ParseError:
                    root = None
            memo["apinizer.xml"] = root
        return find(root) if root is not None else None

    return xml_value


def _compile_xpath(xpath: str) -> Callable[[ET.Element], Any]:
    """The XPath subset ElementTree can answer: element paths, predicates, a final ``@attr``/``text()``."""
    path = xpath.strip()
    attribute = None
    if path.endswith("/text()"):
        path = path[: -len("/text()")]
    match = re.search(r"/@([\w:.-]+)$", path)
    if match:
        attribute, path = match.group(1), path[: match.start()]
    root_tag = None
    if path.startswith("//"):
        element_path = "." + path
    elif path.startswith("/"):
        root_tag, _, rest = path[1:].partition("/")
        element_path = rest or "."
    else:
        element_path = path or "."
    try:  # ElementTree has no compile step: check the syntax once, on an empty element
        ET.Element("x").find(element_path)
    except SyntaxError as exc:
        raise ValueError(f"unsupported XPath {xpath!r}: {exc}") from None

    def find(root: ET.Element) -> Any:
        if root_tag is not None and root_tag not in ("*", _local(root.tag)):
            return None
        element = root if element_path == "." else root.find(element_path)
        if element is None:
            return None
        if attribute is not None:
            return element.get(attribute)
        return "".join(element.itertext())

    return find


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
