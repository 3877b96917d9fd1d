"""syftspace.*: configuration normalisation like Syft Space's model_dump(), schema view, PATCH merge."""

from __future__ import annotations

from typing import Any

import pytest

from policyhub.errors import InvalidInput
from policyhub.policy_types.syftspace import (
    AccessType,
    AccountingType,
    RateLimitType,
    merge_configuration,
    require_syftspace_type,
    syftspace_error_prefix,
    syftspace_type_info,
    syftspace_type_names,
    syftspace_type_schema,
)

from .helpers import FakeContext, error_map

RATE = RateLimitType()
ACCESS = AccessType()
ACCOUNTING = AccountingType()


def test_seed_patch_example_keeps_defaults(ctx: FakeContext) -> None:
    stored = RATE.normalize({"limit": "100/m"}, ctx).spec
    assert stored == {"limit": "100/m", "scope": "per_user", "applied_to": ["*"]}
    merged = merge_configuration(stored, {"limit": "200/m"})
    assert RATE.normalize(merged, ctx).spec == {"limit": "200/m", "scope": "per_user", "applied_to": ["*"]}


@pytest.mark.parametrize(
    ("limit", "normalised"),
    [("50/m", "50/m"), ("1000/h", "1000/h"), ("100/s", "100/s"), ("007/s", "7/s"), ("1000000000/h", "1000000000/h")],
)
def test_valid_limits(ctx: FakeContext, limit: str, normalised: str) -> None:
    assert RATE.normalize({"limit": limit, "scope": "global"}, ctx).spec["limit"] == normalised


@pytest.mark.parametrize(
    "limit", ["0/m", "10/d", "10 /m", "10/M", "m/10", "-5/s", "1.5/s", "", "1000000001/s", "9" * 40 + "/s"]
)
def test_invalid_limits(ctx: FakeContext, limit: str) -> None:
    assert list(error_map(lambda: RATE.normalize({"limit": limit}, ctx))) == ["spec.limit"]


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({}, {"spec.limit": "field required"}),
        ({"limit": 100}, {"spec.limit": "Input should be a valid string"}),
        ({"limit": "1/s", "scope": "per_ip"}, {"spec.scope": "Input should be 'per_user' or 'global'"}),
        ({"limit": "1/s", "applied_to": "*"}, {"spec.applied_to": "Input should be a valid list"}),
        ({"limit": "1/s", "applied_to": [""]}, {"spec.applied_to.0": "String should have at least 1 character"}),
        ({"limit": "1/s", "window": 5}, {"spec.window": "unknown field"}),
    ],
)
def test_rate_limit_errors(ctx: FakeContext, config: dict[str, Any], expected: dict[str, str]) -> None:
    assert error_map(lambda: RATE.normalize(config, ctx)) == expected


def test_access_defaults_and_patterns(ctx: FakeContext) -> None:
    assert ACCESS.normalize({}, ctx).spec == {"allowed_users": [], "denied_users": []}
    config = {"allowed_users": ["*@openmined.org", "alice@example.com"], "denied_users": ["bob@*"]}
    assert ACCESS.normalize(config, ctx).spec == config
    assert error_map(lambda: ACCESS.normalize({"allowed_users": ["a", 1]}, ctx)) == {
        "spec.allowed_users.1": "Input should be a valid string"
    }
    assert error_map(lambda: ACCESS.normalize({"mode": "allow"}, ctx)) == {"spec.mode": "unknown field"}


def test_accounting(ctx: FakeContext) -> None:
    assert ACCOUNTING.normalize({"price": 0.5}, ctx).spec == {
        "price": 0.5,
        "pricing_mode": "per_call",
        "applied_to": ["*"],
    }
    assert ACCOUNTING.normalize({"price": 2}, ctx).spec["price"] == 2.0


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({}, "spec.price"),
        ({"price": -1}, "spec.price"),
        ({"price": True}, "spec.price"),
        ({"price": "1.0"}, "spec.price"),
        ({"price": float("inf")}, "spec.price"),
        ({"price": float("nan")}, "spec.price"),
        ({"price": 1, "pricing_mode": "per_token"}, "spec.pricing_mode"),
        ({"price": 1, "enabled": True}, "spec.enabled"),
    ],
)
def test_accounting_errors(ctx: FakeContext, config: dict[str, Any], field: str) -> None:
    assert list(error_map(lambda: ACCOUNTING.normalize(config, ctx))) == [field]


def test_type_names_and_lookup() -> None:
    assert syftspace_type_names() == ["access", "accounting", "rate_limit"]
    assert require_syftspace_type("rate_limit").name == "syftspace.rate_limit"
    with pytest.raises(InvalidInput) as info:
        require_syftspace_type("pii_filter")
    assert [(e.field, e.message) for e in info.value.errors] == [("policy_type", "Policy type 'pii_filter' not found")]


def test_schema_view_has_properties_and_required_only() -> None:
    schema = syftspace_type_schema("rate_limit")
    assert set(schema) == {"properties", "required"}
    assert schema["required"] == ["limit"]
    assert set(schema["properties"]) == {"limit", "scope", "applied_to"}
    assert schema["properties"]["scope"]["default"] == "per_user"
    assert "$defs" not in str(schema) and "$ref" not in str(schema)
    assert syftspace_type_schema("access")["required"] == []
    assert syftspace_type_schema("accounting")["required"] == ["price"]


def test_type_info_and_error_prefix() -> None:
    info = syftspace_type_info("accounting")
    assert info["name"] == "accounting"
    assert info["enabled"] is True
    assert info["config_schema"] == syftspace_type_schema("accounting")
    assert info["icon"] == "\U0001f4b0"
    assert syftspace_error_prefix("rate_limit") == "Invalid rate limit config: "
    assert syftspace_error_prefix("access") == "Invalid access policy config: "
    assert syftspace_error_prefix("accounting") == "Invalid accounting config: "


def test_merge_requires_object() -> None:
    with pytest.raises(InvalidInput):
        merge_configuration({}, ["limit"])
