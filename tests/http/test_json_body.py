"""The strict JSON parser's fast path (no tree walk for bodies without suspect escapes or deep nesting)
decides exactly like walking every tree."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policyhub.errors import InvalidInput
from policyhub.http.json_body import check_tree, parse_json, parse_strict

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


def strict_outcome(raw: bytes) -> Any:
    try:
        return ("ok", repr(parse_strict(raw, max_depth=DEPTH)))
    except InvalidInput as exc:
        return ("invalid", exc.detail, [(e.field, e.message) for e in exc.errors])


def fast_outcome(raw: bytes) -> Any:
    try:
        return ("ok", repr(parse_json(raw, max_depth=DEPTH)))
    except InvalidInput as exc:
        return ("invalid", exc.detail, [(e.field, e.message) for e in exc.errors])


keys = st.sampled_from(['"a"', '"b"', '"a:b"', '":"', '"é"', '"a\\"b"', '"\\u0061"', '"x\\\\"'])
numbers = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.sampled_from(["2e400", "-1e999", "1.5", "-0", "-0.0", "1e-400", "4.9e-324", "9007199254740993", "1E5"]),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.from_regex(r"\A-?(0|[1-9][0-9]{0,20})(\.[0-9]{1,20})?([eE][+-]?[0-9]{1,3})?\Z"),
)
scalars = st.one_of(numbers, keys, st.sampled_from(["true", "false", "null", "NaN", "Infinity", '"a\tb"', '"\\ud800"']))


def _object(pairs: list[tuple[str, str]]) -> str:
    return "{" + ",".join(f"{k}:{v}" for k, v in pairs) + "}"


documents = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4).map(lambda items: "[" + ", ".join(items) + "]")
        | st.lists(st.tuples(keys, inner), max_size=4).map(_object)
    ),
    max_leaves=20,
)


@settings(max_examples=1500)
@given(documents, st.sampled_from(["", " ", "\n", "\ufeff"]), st.data())
def test_the_orjson_path_agrees_with_the_strict_parser(document: str, pad: str, data: st.DataObject) -> None:
    """Duplicate keys (also nested, also holding colons), long and overflowing numbers, escapes, NaN, raw
    control characters, a BOM, depth, and random damage: the same value, or the same error."""
    raw = (pad + document + pad.strip("\ufeff")).encode("utf-8")
    if data.draw(st.booleans()) and raw:
        at = data.draw(st.integers(0, len(raw) - 1))
        damage = data.draw(st.sampled_from([b"", b":", b"\\", b"\x00", b"\xff", b"}", b",", b'"']))
        raw = raw[:at] + damage + raw[at + 1 :]
    assert fast_outcome(raw) == strict_outcome(raw)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a":1,"a":1}',
        b'{"a":{"b":1},"a":{"b":1}}',
        b'{"x":{"a":1,"b":2,"a":3}}',
        b'[{"k":":"},{"k":":","k":":"}]',
        b'{"a" : 1 , "a" : 2}',
        b'{"n":9007199254740993}',
        b'{"n":18446744073709551616}',
        b'{"n":1e400}',
        b"[" * 7 + b"]" * 7,
    ],
)
def test_what_the_fast_path_must_not_accept(raw: bytes) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_json(raw, max_depth=DEPTH)
    assert fast_outcome(raw) == strict_outcome(raw)
    assert caught.value.errors


def test_the_largest_safe_integers_are_values() -> None:
    raw = b'{"n":[9007199254740992,-9007199254740992,9007199254740991]}'
    assert parse_json(raw, max_depth=DEPTH) == {"n": [2**53, -(2**53), 2**53 - 1]}
