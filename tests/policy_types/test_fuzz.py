"""Property tests: client input can only ever produce InvalidInput, and normalisation is idempotent."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policyhub.errors import InvalidInput
from policyhub.policy_types.base import NormalizedSpec, PolicyType
from policyhub.policy_types.jfrog import validate_rule, validate_template
from policyhub.policy_types.kosli import KosliEnvironmentType
from policyhub.policy_types.registry import default_registry

from .helpers import FakeContext

CTX = FakeContext(references={("jfrog.rule", "rule-12345")})
REGISTRY = default_registry()
OUR_PREFIXES = ("kosli.", "jfrog.", "syftspace.", "apinizer.", "flashback.", "access_rules", "rego")
OUR_TYPES = [t for t in REGISTRY if t.name.startswith(OUR_PREFIXES)]
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

VALID: dict[str, dict[str, Any]] = {
    "kosli.environment": {
        "_schema": "https://kosli.com/schemas/policy/environment/v1",
        "artifacts": {
            "provenance": {"required": True, "exceptions": [{"if": "${{ matches(artifact.name, '^dd') }}"}]},
            "attestations": [{"type": "snyk", "name": "scan", "if": "${{ flow.tags.risk >= 2 }}"}],
        },
    },
    "jfrog.lifecycle": {
        "mode": "block",
        "action": {"type": "certify_to_gate", "stage": {"key": "qa", "gate": "exit"}},
        "scope": {
            "type": "application",
            "application_keys": ["app"],
            "application_labels": [{"key": "k", "value": "v"}],
        },
        "rule_ids": ["rule-12345"],
    },
    "syftspace.rate_limit": {"limit": "10/s", "scope": "global", "applied_to": ["*@x.org"]},
    "syftspace.access": {"allowed_users": ["*"], "denied_users": ["bob@x.org"]},
    "syftspace.accounting": {"price": 1.25},
    "flashback.ai": {"content": "No secrets in prompts.", "riskType": "MEDIUM", "actionType": 1},
    "rego": {"module": "package p\nimport rego.v1\nallow if input.subject.id == data.who\n", "data": {"who": "a"}},
    "access_rules": {
        "rules": [
            {
                "id": "r",
                "effect": "allow",
                "subject": {"type": "user", "id": ["a*", "b"]},
                "action": {"name": "read"},
                "when": [{"path": "resource.properties.owner", "equals_path": "subject.id", "negate": False}],
                "rate_limit": {"limit": 5, "window_s": 60, "per": "subject.id"},
                "obligations": [{"type": "custom", "properties": {"k": 1}}],
            }
        ],
        "entities": {"subjects": [{"type": "user", "id": "a", "properties": {"r": "x"}}], "actions": [{"name": "r"}]},
    },
    "apinizer.policy-api-based-throttling": {
        "targetVariableForIdentity": {"type": "HEADER", "headerName": "X-API-Key"},
        "messageCountForInterval": 5,
        "throttlingInterval": "ONE_SECOND",
        "detailList": [
            {"targetValue": "^a.*", "regexExpression": True, "messageCountForInterval": 9, "quotaInterval": "ONE_DAY"}
        ],
        "policyCondition": {
            "conditionRuleList": [
                {
                    "conditionCriteria": "AND",
                    "conditionRuleList": [
                        {
                            "conditionCriteria": "VALUE",
                            "firstVariable": {"type": "HEADER", "headerName": "X-T"},
                            "variableDataType": "NUMERIC",
                            "valueComparisonOperator": "GT",
                            "secondValue": "3",
                        }
                    ],
                }
            ]
        },
    },
    "apinizer.policy-white-ip": {"ipList": ["10.0.0.0/8", "::1"]},
    "apinizer.policy-auth-basic": {"usernameVar": {"type": "CONTEXT_VALUES", "contextValue": "USER_NAME"}},
    "apinizer.policy-script": {"executionType": "ASYNC", "scriptLanguage": "JAVASCRIPT", "scriptBody": "x()"},
    "apinizer.policy-max-message-size": {"maxMessageSize": 1024},
    "apinizer.policy-time-restriction": {
        "restrictionList": [
            {
                "dayType": "CUSTOM",
                "day": 1,
                "month": 1,
                "startHour": 0,
                "startMinute": 0,
                "startSecond": 0,
                "endHour": 23,
                "endMinute": 59,
                "endSecond": 59,
            }
        ]
    },
}

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from([0, -1, 2**31, 2**63, -(2**63) - 1, 10**400])
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(["", "*", "HEADER", "VALUE", "${{ flow.name == 'a' }}", "10/m", "10.0.0.0/8", "\x00"])
)
JSON = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=25,
)


def _normalize(policy_type: PolicyType, spec: Any) -> NormalizedSpec | None:
    """Normalise; InvalidInput (with field errors) is fine, any other exception fails the test."""
    try:
        result = policy_type.normalize(spec, CTX)
    except InvalidInput as exc:
        assert exc.errors and all(e.field and e.message for e in exc.errors)
        return None
    json.dumps(result.spec, allow_nan=False)  # the stored spec is plain JSON
    return result


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    paths = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            paths += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            paths += _paths(child, (*prefix, index))
    return paths


def test_examples_are_valid_and_idempotent() -> None:
    for name, spec in VALID.items():
        first = REGISTRY.get(name).normalize(copy.deepcopy(spec), CTX)
        assert REGISTRY.get(name).normalize(copy.deepcopy(first.spec), CTX).spec == first.spec, name


@pytest.mark.parametrize("policy_type", OUR_TYPES, ids=lambda t: t.name)
@FUZZ
@given(spec=JSON)
def test_random_json_only_invalid_input(policy_type: PolicyType, spec: Any) -> None:
    _normalize(policy_type, spec)
    if isinstance(spec, dict):
        _normalize(policy_type, {**VALID.get(policy_type.name, {}), **spec})


@pytest.mark.parametrize("name", sorted(VALID))
@FUZZ
@given(data=st.data())
def test_mutated_examples_only_invalid_input(name: str, data: st.DataObject) -> None:
    spec = copy.deepcopy(VALID[name])
    path = data.draw(st.sampled_from(_paths(spec)[1:]))
    parent = spec
    for part in path[:-1]:
        parent = parent[part]
    action = data.draw(st.sampled_from(["replace", "delete", "extra"]))
    if action == "replace":
        parent[path[-1]] = data.draw(JSON)
    elif action == "delete":
        del parent[path[-1]]
    elif isinstance(parent, dict):
        parent[data.draw(st.text(max_size=8))] = data.draw(JSON)
    result = _normalize(REGISTRY.get(name), spec)
    if result is not None:  # whatever is accepted normalises to a fixed point
        assert REGISTRY.get(name).normalize(copy.deepcopy(result.spec), CTX).spec == result.spec


@FUZZ
@given(text=st.text(max_size=300) | JSON.map(lambda v: yaml.safe_dump(v, allow_unicode=True)))
def test_kosli_source_only_invalid_input(text: str) -> None:
    try:
        KosliEnvironmentType().parse_source(text, CTX)
    except InvalidInput as exc:
        assert exc.errors


@FUZZ
@given(body=JSON, template=JSON)
def test_jfrog_templates_and_rules_only_invalid_input(body: Any, template: Any) -> None:
    for call in (
        lambda: validate_template(body),
        lambda: validate_rule(body, template if isinstance(template, dict) else None),
        lambda: validate_rule({"name": "r", "template_id": "t", "parameters": body}, {"parameters": template}),
    ):
        try:
            call()
        except InvalidInput as exc:
            assert exc.errors
