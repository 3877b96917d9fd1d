"""The pure translation functions: core names, PATCH operations, spec errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from policyhub.domain import names
from policyhub.domain.records import Enforcement, Policy
from policyhub.errors import FieldError, InvalidInput
from policyhub.http.compat.syftspace.translate import config_error, core_name, policy_response, update_operations

EP = "123e4567-e89b-12d3-a456-426614174000"


def _policy(**over: object) -> Policy:
    at = datetime(2026, 3, 1, 10, 30, tzinfo=UTC)
    fields: dict[str, object] = {
        "id": "987fcdeb-51a2-43d7-8901-abcdef123456",
        "org_id": "o",
        "scope_id": EP,
        "scope_path": "ep",
        "name": core_name(EP, "Rate limit"),
        "description": "",
        "type": "syftspace.rate_limit",
        "spec": {"limit": "100/m", "scope": "per_user", "applied_to": ["*"]},
        "source": None,
        "enforcement": Enforcement.ENFORCE,
        "enabled": True,
        "labels": {},
        "attributes": {"syftspace": {"name": "Rate limit", "note": "kept"}},
        "revision": 1,
        "version": 1,
        "created_at": at,
        "created_by": "p",
        "updated_at": at,
        "updated_by": "p",
        "archived": False,
    }
    fields.update(over)
    return Policy(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "name", ["Rate limit 200/min", "x", "Été 🌞", "///", "A" * 300, "0 leading digit", "-dash-", "名前"]
)
def test_core_names_are_valid(name: str) -> None:
    derived = core_name(EP, name)
    assert names.policy_name(derived) == derived
    assert core_name(EP, name) == derived


def test_core_name_is_readable_and_distinguishes() -> None:
    assert core_name(EP, "Rate limit 200/min").startswith("rate-limit-200-min-")
    assert core_name(EP, "Rate limit 200/min") != core_name(EP, "Rate limit 200 min")
    assert core_name(EP, "same") != core_name("00000000-0000-4000-8000-000000000000", "same")
    assert core_name(EP, "!!!").startswith("policy-")


def test_the_seed_example_response() -> None:
    policy = _policy(spec={"limit": "200/m", "scope": "per_user", "applied_to": ["*"]})
    assert policy_response(policy) == {
        "id": "987fcdeb-51a2-43d7-8901-abcdef123456",
        "name": "Rate limit",
        "policy_type": "rate_limit",
        "configuration": {"limit": "200/m", "scope": "per_user", "applied_to": ["*"]},
        "endpoint_id": EP,
        "created_at": "2026-03-01T10:30:00.000000Z",
        "updated_at": "2026-03-01T10:30:00.000000Z",
    }


def test_update_operations() -> None:
    current = _policy()
    assert update_operations(current, name=None, configuration=None) == []
    assert update_operations(current, name=None, configuration={"limit": "200/m", "scope": None}) == [
        {"op": "replace", "path": "/spec", "value": {"limit": "200/m", "scope": None, "applied_to": ["*"]}}
    ]
    assert update_operations(current, name="New", configuration=None) == [
        {"op": "replace", "path": "/name", "value": core_name(EP, "New")},
        {"op": "add", "path": "/attributes/syftspace", "value": {"name": "New", "note": "kept"}},
    ]


def test_config_error_wording() -> None:
    spec = InvalidInput("x", [FieldError("spec.limit", "field required"), FieldError("spec", "bad")])
    expected = "Invalid rate limit config: limit: field required; configuration: bad"
    assert config_error(spec, "rate_limit").detail == expected
    other = InvalidInput("name: bad", [FieldError("name", "bad")])
    assert config_error(other, "access") is other
