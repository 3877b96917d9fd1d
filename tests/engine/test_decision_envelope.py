"""The decision endpoint's quick paths decide exactly like the models and formats they stand in for."""

from __future__ import annotations

import time
import uuid
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from policyhub.engine.engine import decision_id
from policyhub.errors import InvalidInput
from policyhub.http.deps import parse_model
from policyhub.http.v1.decisions import MAX_BATCH, BatchIn, DecisionIn, batch_requests, decision_request

anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 2),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["", "http_request", "yes", "true", "0", "1"]),
    st.lists(st.sampled_from(["p1", "p2", 1, None]), max_size=3),
    st.dictionaries(st.sampled_from(["a", "n"]), st.integers(0, 3), max_size=2),
)
points = st.sampled_from(["http_request", "http_request", "", 1, None])
inputs = st.sampled_from([{}, {"n": 1}, {"n": 1}, [], "x", None])
scopes = st.sampled_from([None, "ws/api", "ws/api", 3, True])
policy_lists = st.sampled_from([None, [], ["p1"], ["p1", "p2"], ["p1", 2], "p1", ("p1",)])
explains = st.sampled_from([False, True, True, 0, 1, "true", None, 1.0])
envelopes = st.fixed_dictionaries(
    {"point": points, "input": inputs},
    optional={"scope": scopes, "policies": policy_lists, "explain": explains},
)
fields = st.sampled_from(["point", "scope", "input", "policies", "explain", "extra"])
bodies = st.one_of(anything, st.dictionaries(fields, anything, max_size=6), envelopes, envelopes)


def outcome(fn: Any, body: object) -> Any:
    try:
        return ("ok", fn(body))
    except InvalidInput as exc:
        return ("invalid", exc.detail, [(e.field, e.message) for e in exc.errors])


@settings(max_examples=1000)
@given(bodies)
def test_the_quick_envelope_agrees_with_the_model(body: object) -> None:
    assert outcome(decision_request, body) == outcome(lambda b: parse_model(DecisionIn, b).request(), body)


@settings(max_examples=300)
@given(st.one_of(bodies, st.fixed_dictionaries({"requests": st.lists(bodies, max_size=3)})))
def test_the_quick_batch_agrees_with_the_model(body: object) -> None:
    def model(b: object) -> Any:
        return [item.request() for item in parse_model(BatchIn, b).requests]

    assert outcome(batch_requests, body) == outcome(model, body)


def test_the_quick_envelope_keeps_the_limits() -> None:
    base = {"point": "http_request", "input": {}}
    assert decision_request({**base, "policies": ["p"] * 1000}).policies == ("p",) * 1000
    for body in ({**base, "policies": ["p"] * 1001}, {"requests": [base] * (MAX_BATCH + 1)}, {"requests": []}):
        fn = batch_requests if "requests" in body else decision_request
        assert outcome(fn, body)[0] == "invalid"


def test_decision_ids_are_version_7_uuids_in_time_order() -> None:
    before = time.time_ns() // 1_000_000
    ids = [decision_id() for _ in range(2000)]
    after = time.time_ns() // 1_000_000
    for text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 7 and parsed.variant == uuid.RFC_4122
        assert before <= parsed.int >> 80 <= after
    assert len(set(ids)) == len(ids)
    assert [i[:13] for i in ids] == sorted(i[:13] for i in ids)
