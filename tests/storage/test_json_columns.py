"""JSON columns read back exactly what was written: orjson where it is exact, the stdlib where it is not."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from policyhub.domain.canonical import same_json
from policyhub.storage.db import dumps, loads

values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**80), 2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)


@given(values)
def test_a_json_column_reads_back_what_was_written(value: Any) -> None:
    text = dumps(value)
    for stored in (text, text.encode()):
        assert same_json(loads(stored), value)
        assert same_json(loads(stored), json.loads(text))


def test_integers_beyond_64_bits_stay_integers() -> None:
    for n in (2**64, -(2**63) - 1, 10**19, 12345678901234567890123):
        assert loads(dumps({"n": n})) == {"n": n}
        assert type(loads(dumps([n]))[0]) is int
    assert loads("[1.2345678901234568e+22]") == [1.2345678901234568e22]
