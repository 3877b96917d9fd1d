"""The strict JSON parser's fast path (no tree walk for bodies without suspect escapes or deep nesting)
decides exactly like walking every tree."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policyhub.errors import InvalidInput
from policyhub.http.json_body import check_tree, parse_json

DEPTH = 6
text = st.text(alphabet=st.sampled_from(["a", "é", "\x00", "\ud800", "\udfff", "😀", "[", "{", "\\", "u"]), max_size=6)
values = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=25,
)


def full_check(raw: bytes) -> Any:
    value = json.loads(raw.decode("utf-8"))
    check_tree(value, max_depth=DEPTH)
    return value


def outcome(fn: Any, raw: bytes) -> Any:
    try:
        return ("ok", fn(raw))
    except InvalidInput as exc:
        return ("invalid", exc.errors[0].message)


@settings(max_examples=400)
@given(values, st.booleans())
def test_the_fast_path_agrees_with_the_full_walk(value: Any, ascii_only: bool) -> None:
    raw = json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return  # not UTF-8 at all: refused before either path
    assert outcome(lambda r: parse_json(r, max_depth=DEPTH), raw) == outcome(full_check, raw)


@pytest.mark.parametrize(
    "raw",
    [b'{"a": "\\u0000"}', b'{"\\u0000": 1}', b'{"a": "\\ud800"}', b'["\\uDC00"]', b"[" * 7 + b"]" * 7],
)
def test_suspect_bodies_are_still_refused(raw: bytes) -> None:
    with pytest.raises(InvalidInput):
        parse_json(raw, max_depth=DEPTH)


def test_an_escaped_backslash_before_u0000_is_plain_text() -> None:
    assert parse_json(b'{"a": "\\\\u0000"}', max_depth=DEPTH) == {"a": "\\u0000"}
