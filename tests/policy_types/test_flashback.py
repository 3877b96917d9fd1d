"""flashback.ai: content, riskType and actionType."""

from __future__ import annotations

from typing import Any

import pytest

from policyhub.policy_types.flashback import FlashbackAiType

from .helpers import FakeContext, error_map

TYPE = FlashbackAiType()

SEED = {
    "content": (
        "Enhanced policy: Do not allow sharing of personally identifiable information including SSN, "
        "credit cards, addresses, phone numbers, or email addresses."
    ),
    "riskType": "HIGH",
    "actionType": 2,
}


def test_seed_body_minus_name_normalises_unchanged(ctx: FakeContext) -> None:
    assert TYPE.normalize(dict(SEED), ctx).spec == SEED


@pytest.mark.parametrize("action", [0, 1, 2])
@pytest.mark.parametrize("risk", ["LOW", "MEDIUM", "HIGH"])
def test_all_enum_values(ctx: FakeContext, risk: str, action: int) -> None:
    spec = {**SEED, "riskType": risk, "actionType": action}
    assert TYPE.normalize(spec, ctx).spec == spec


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"actionType": True}, {"spec.actionType": "Input should be a valid integer"}),
        ({"actionType": "2"}, {"spec.actionType": "Input should be a valid integer"}),
        ({"actionType": 2.0}, {"spec.actionType": "Input should be a valid integer"}),
        ({"actionType": 3}, {"spec.actionType": "must be 0 (log), 1 (alert) or 2 (block)"}),
        ({"actionType": -1}, {"spec.actionType": "must be 0 (log), 1 (alert) or 2 (block)"}),
        ({"actionType": 10**30}, {"spec.actionType": "must be 0 (log), 1 (alert) or 2 (block)"}),
        ({"riskType": "high"}, {"spec.riskType": "Input should be 'LOW', 'MEDIUM' or 'HIGH'"}),
        ({"riskType": None}, {"spec.riskType": "Input should be 'LOW', 'MEDIUM' or 'HIGH'"}),
        ({"content": ""}, {"spec.content": "String should have at least 1 character"}),
        ({"content": "  \n\t"}, {"spec.content": "must not be blank"}),
        ({"content": "x" * 10_001}, {"spec.content": "String should have at most 10000 characters"}),
        ({"content": "a\x00b"}, {"spec.content": "must not contain NUL characters"}),
        ({"content": ["rule"]}, {"spec.content": "Input should be a valid string"}),
        ({"name": "PII"}, {"spec.name": "unknown field"}),
        ({"workspaceId": "ws-1"}, {"spec.workspaceId": "unknown field"}),
    ],
)
def test_invalid(ctx: FakeContext, changes: dict[str, Any], expected: dict[str, str]) -> None:
    assert error_map(lambda: TYPE.normalize({**SEED, **changes}, ctx)) == expected


def test_required_fields(ctx: FakeContext) -> None:
    assert error_map(lambda: TYPE.normalize({}, ctx)) == {
        "spec.content": "field required",
        "spec.riskType": "field required",
        "spec.actionType": "field required",
    }


def test_max_length_content_accepted(ctx: FakeContext) -> None:
    assert TYPE.normalize({**SEED, "content": "x" * 10_000}, ctx).spec["content"] == "x" * 10_000


def test_schema_documents_action_values() -> None:
    schema = TYPE.json_schema()
    assert schema["properties"]["actionType"]["enum"] == [0, 1, 2]
    assert schema["properties"]["riskType"]["enum"] == ["LOW", "MEDIUM", "HIGH"]
