"""Strict JSON request parsing: the limits every face shares.

Rejected (400): invalid UTF-8, malformed JSON, duplicate object keys, NaN/Infinity, integers outside
the interoperable range (RFC 7493, +-2^53), nesting deeper than the configured limit, lone
surrogates (which no database can store) and NUL characters (which PostgreSQL cannot store).

Most bodies take a fast path (orjson) that accepts only what the strict parser accepts, with the same
value; anything it cannot vouch for is parsed again by the strict parser, which says what is wrong.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

from policyhub.domain.canonical import has_digit_run
from policyhub.errors import FieldError, InvalidInput

MAX_SAFE_INT = 2**53


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise InvalidInput(f"duplicate key {key!r} in JSON object", [FieldError(key, "duplicate key")])
            seen.add(key)
    return result


def _constant(name: str) -> Any:
    raise InvalidInput(f"{name} is not valid JSON", [FieldError("body", f"{name} is not allowed")])


def _int(text: str) -> int:
    if len(text) > 17:
        raise InvalidInput("integer out of range", [FieldError("body", f"integer {text[:20]}... is out of range")])
    value = int(text)
    if abs(value) > MAX_SAFE_INT:
        raise InvalidInput("integer out of range", [FieldError("body", f"integer {value} is out of range (+-2^53)")])
    return value


def _float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise InvalidInput("number out of range", [FieldError("body", f"number {text[:20]} is out of range")])
    return value


def parse_json(raw: bytes, *, max_depth: int, field: str = "body") -> Any:
    """Parse a request body or raise :class:`InvalidInput` saying what is wrong with it."""
    if b"\\" not in raw and raw.count(b"{") + raw.count(b"[") <= max_depth:
        value = _fast(raw)
        if value is not _UNSURE:
            return value
    return parse_strict(raw, max_depth=max_depth, field=field)


_UNSURE = object()
#: Numbers with this many digits in a row are left to the strict parser (an integer that may exceed
#: 2^53, or that orjson would read as a float).
_LONG_NUMBER_DIGITS = 16


def _fast(raw: bytes) -> Any:
    """The body parsed by orjson, or ``_UNSURE`` when the strict parser must decide (including every error).

    Only for bodies without a backslash (no escapes: no NUL, no surrogate, every string's text is its
    bytes) and with no more brackets than the depth limit. orjson refuses invalid UTF-8, NaN/Infinity,
    numbers that overflow to infinity and control characters, as the strict parser does; long numbers
    are left to the strict parser. orjson keeps the last of duplicate keys, so duplicates are found by
    counting colons: without escapes, the body has more colons than its re-encoding exactly when a
    key/value pair was dropped (each pair brings at least its own colon).
    """
    if has_digit_run(raw, _LONG_NUMBER_DIGITS):
        return _UNSURE
    try:
        value = orjson.loads(raw)
        encoded = orjson.dumps(value, option=orjson.OPT_STRICT_INTEGER)
    except (orjson.JSONDecodeError, orjson.JSONEncodeError):
        return _UNSURE
    return value if encoded.count(b":") == raw.count(b":") else _UNSURE


def parse_strict(raw: bytes, *, max_depth: int, field: str = "body") -> Any:
    """The strict parser (stdlib ``json`` with a hook per object and number): the reference behaviour."""
    if not raw.strip():
        raise InvalidInput.field(field, "request body is empty; a JSON document is required")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput.field(field, f"not valid UTF-8 (byte {exc.start})") from None
    try:
        value = json.loads(text, object_pairs_hook=_pairs, parse_constant=_constant, parse_int=_int, parse_float=_float)
    except json.JSONDecodeError as exc:
        raise InvalidInput.field(field, f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise InvalidInput.field(field, f"JSON nested deeper than {max_depth} levels") from None
    if _SUSPECT_ESCAPE.search(raw) or raw.count(b"{") + raw.count(b"[") > max_depth:
        check_tree(value, max_depth=max_depth, field=field)
    return value


#: In valid UTF-8 JSON text a NUL or a surrogate can only arrive as a ``\u`` escape (raw control characters
#: and encoded surrogates are already refused by the decoder), and nesting can only be as deep as there are
#: brackets. Bodies with neither, nearly all of them, skip the tree walk.
_SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89abcdefABCDEF])")


def check_tree(value: Any, *, max_depth: int, field: str = "body") -> None:
    """Refuse trees nested deeper than ``max_depth`` and strings holding NUL or lone surrogates."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            if depth > max_depth:
                raise InvalidInput.field(field, f"JSON nested deeper than {max_depth} levels")
            for key, child in node.items():
                _check_str(key, field, value)
                stack.append((child, depth + 1))
        elif isinstance(node, list):
            if depth > max_depth:
                raise InvalidInput.field(field, f"JSON nested deeper than {max_depth} levels")
            stack.extend((child, depth + 1) for child in node)
        elif isinstance(node, str):
            _check_str(node, field, value)


def _check_str(text: str, field: str, root: Any) -> None:
    if "\x00" in text:  # PostgreSQL cannot store it; SQLite would: refuse it on both alike
        raise InvalidInput.field(_where(root, text, field), "contains a NUL character (\\u0000), which is not allowed")
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput.field(
            _where(root, text, field), "contains a lone surrogate (\\ud800-\\udfff), which is not valid text"
        ) from None


def _where(root: Any, text: str, field: str) -> str:
    """The field to name: the offending value's path (under ``field`` unless that is the whole body)."""
    path = _path_of(root, text)
    if not path:
        return field
    return path if field == "body" else f"{field}.{path}"


def _path_of(root: Any, text: str) -> str:
    """The dotted path (``spec.rules.0``) of the first key or value equal to ``text``; only on the error path."""
    stack: list[tuple[Any, str]] = [(root, "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            for key, child in node.items():
                here = f"{path}.{key}" if path else str(key)
                if key == text or child == text:
                    return here
                stack.append((child, here))
        elif isinstance(node, list):
            for i, child in enumerate(node):
                here = f"{path}.{i}" if path else str(i)
                if child == text:
                    return here
                stack.append((child, here))
    return ""
