"""jfrog.lifecycle: the Unified Policy body (seed sample) and its semantic rules."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from policyhub.policy_types.jfrog import JFrogLifecycleType

from .helpers import FakeContext, error_map

TYPE = JFrogLifecycleType()

# The seed's sample request, minus the core fields name/description/enabled.
SEED_SPEC: dict[str, Any] = {
    "mode": "warning",
    "action": {"type": "certify_to_gate", "stage": {"key": "production", "gate": "entry"}},
    "scope": {"type": "project", "project_keys": ["my-project"]},
    "rule_ids": ["rule-12345"],
}


def with_changes(**changes: Any) -> dict[str, Any]:
    spec = copy.deepcopy(SEED_SPEC)
    spec.update(changes)
    return spec


def test_seed_sample_normalises_unchanged(ctx: FakeContext) -> None:
    result = TYPE.normalize(copy.deepcopy(SEED_SPEC), ctx)
    assert result.spec == SEED_SPEC
    assert result.references == (("jfrog.rule", "rule-12345"),)
    assert result.source is None


def test_application_scope_with_labels_only(ctx: FakeContext) -> None:
    scope = {"type": "application", "application_labels": [{"key": "env", "value": "prod"}]}
    result = TYPE.normalize(with_changes(scope=scope, mode="block"), ctx)
    assert result.spec["scope"] == scope
    assert result.spec["mode"] == "block"


def test_application_scope_with_keys(ctx: FakeContext) -> None:
    scope = {"type": "application", "application_keys": ["app-1", "app-2"]}
    assert TYPE.normalize(with_changes(scope=scope), ctx).spec["scope"] == scope


def test_use_skill_action_has_no_stage(ctx: FakeContext) -> None:
    assert TYPE.normalize(with_changes(action={"type": "use_skill"}), ctx).spec["action"] == {"type": "use_skill"}


def test_unknown_rule_is_rejected(ctx: FakeContext) -> None:
    assert error_map(lambda: TYPE.normalize(with_changes(rule_ids=["rule-404"]), ctx)) == {
        "spec.rule_ids.0": "rule 'rule-404' does not exist"
    }


@pytest.mark.parametrize("rule_ids", [[], ["rule-12345", "rule-2"]])
def test_exactly_one_rule(ctx: FakeContext, rule_ids: list[str]) -> None:
    errors = error_map(lambda: TYPE.normalize(with_changes(rule_ids=rule_ids), ctx))
    assert list(errors) == ["spec.rule_ids"]
    assert "exactly one rule id" in errors["spec.rule_ids"]


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ({"type": "project"}, {"spec.scope.project_keys": "project scope needs exactly one project key"}),
        (
            {"type": "project", "project_keys": ["a", "b"]},
            {"spec.scope.project_keys": "project scope needs exactly one project key"},
        ),
        (
            {"type": "project", "project_keys": ["a"], "application_keys": ["x"]},
            {"spec.scope.application_keys": "only valid for application scope"},
        ),
        (
            {"type": "application", "application_keys": []},
            {"spec.scope.application_keys": "application scope needs application_keys and/or application_labels"},
        ),
        ({"type": "global"}, {"spec.scope.type": "Input should be 'project' or 'application'"}),
        (
            {"type": "project", "project_keys": [""]},
            {"spec.scope.project_keys.0": "String should have at least 1 character"},
        ),
    ],
)
def test_scope_rules(ctx: FakeContext, scope: dict[str, Any], expected: dict[str, str]) -> None:
    assert error_map(lambda: TYPE.normalize(with_changes(scope=scope), ctx)) == expected


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ({"type": "certify_to_gate"}, {"spec.action.stage": "required for action type 'certify_to_gate'"}),
        (
            {"type": "use_skill", "stage": {"key": "qa", "gate": "entry"}},
            {"spec.action.stage": "not allowed for action type 'use_skill'"},
        ),
        (
            {"type": "certify_to_gate", "stage": {"key": "qa", "gate": "middle"}},
            {"spec.action.stage.gate": "Input should be 'entry', 'exit' or 'release'"},
        ),
        (
            {"type": "promote", "stage": {"key": "qa", "gate": "entry"}},
            {"spec.action.type": "Input should be 'certify_to_gate' or 'use_skill'"},
        ),
    ],
)
def test_action_rules(ctx: FakeContext, action: dict[str, Any], expected: dict[str, str]) -> None:
    assert error_map(lambda: TYPE.normalize(with_changes(action=action), ctx)) == expected


def test_mode_enum_and_required_fields(ctx: FakeContext) -> None:
    assert error_map(lambda: TYPE.normalize(with_changes(mode="audit"), ctx)) == {
        "spec.mode": "Input should be 'block' or 'warning'"
    }
    assert error_map(lambda: TYPE.normalize({}, ctx)) == {
        "spec.mode": "field required",
        "spec.action": "field required",
        "spec.scope": "field required",
        "spec.rule_ids": "field required",
    }


@pytest.mark.parametrize("key", ["name", "enabled", "id", "created_at", "rules"])
def test_core_and_server_fields_are_not_spec(ctx: FakeContext, key: str) -> None:
    assert error_map(lambda: TYPE.normalize(with_changes(**{key: "x"}), ctx)) == {f"spec.{key}": "unknown field"}


def test_nested_unknown_key(ctx: FakeContext) -> None:
    action = {"type": "certify_to_gate", "stage": {"key": "qa", "gate": "entry", "order": 1}}
    assert error_map(lambda: TYPE.normalize(with_changes(action=action), ctx)) == {
        "spec.action.stage.order": "unknown field"
    }


def test_json_schema() -> None:
    schema = TYPE.json_schema()
    assert set(schema["required"]) == {"mode", "action", "scope", "rule_ids"}
    assert schema["additionalProperties"] is False
