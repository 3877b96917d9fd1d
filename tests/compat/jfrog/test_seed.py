"""The seed page's example (Update Policy), end to end: make the rule, make the policy, PUT the sample."""

from __future__ import annotations

import copy
import re
from typing import Any

from .conftest import SEED_PUT_BODY, SEED_PUT_RESPONSE, JFrog, World, with_rule

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def _same_shape(sample: Any, actual: Any, path: str = "") -> None:
    """``actual`` has every key of ``sample``, with values of the same JSON type."""
    assert type(actual) is type(sample), f"{path}: {type(actual).__name__} vs {type(sample).__name__}"
    if isinstance(sample, dict):
        for key, value in sample.items():
            assert key in actual, f"{path}.{key} missing"
            _same_shape(value, actual[key], f"{path}.{key}")
    elif isinstance(sample, list) and sample:
        for item in actual:
            _same_shape(sample[0], item, f"{path}[]")


def test_seed_put_gives_200_and_the_sample_response(world: World) -> None:
    jf, rule_id, policy_id = world.jf, world.rule["id"], world.policy["id"]
    r = jf.call("PUT", f"/policies/{policy_id}", json=with_rule(SEED_PUT_BODY, rule_id))
    assert r.status_code == 200, r.text
    body = r.json()
    _same_shape(SEED_PUT_RESPONSE, body)
    expected = {**SEED_PUT_RESPONSE, "id": policy_id, "rule_ids": [rule_id]}
    for key in ("id", "name", "enabled", "mode", "action", "scope", "rule_ids", "created_by", "updated_by"):
        assert body[key] == expected[key], key
    assert body["description"] == SEED_PUT_BODY["description"]
    assert TIMESTAMP.match(body["created_at"]) and TIMESTAMP.match(body["updated_at"])
    assert body["created_at"] == world.policy["created_at"]
    assert body["updated_at"] >= body["created_at"]
    assert jf.call("GET", f"/policies/{policy_id}").json() == body


def test_seed_put_on_the_sample_id_is_404_policy_not_found(world: World) -> None:
    r = world.jf.call("PUT", "/policies/policy-1001", json=with_rule(SEED_PUT_BODY, world.rule["id"]))
    assert r.status_code == 404
    assert r.json() == {"errors": [{"code": "NOT_FOUND", "message": "Policy not found", "field": None}]}


def test_seed_put_with_the_sample_rule_id_is_409(world: World) -> None:
    r = world.jf.call("PUT", f"/policies/{world.policy['id']}", json=copy.deepcopy(SEED_PUT_BODY))
    assert r.status_code == 409, r.text
    assert r.json()["errors"] == [
        {"code": "CONFLICT", "message": "rule 'rule-12345' does not exist", "field": "rule_ids.0"}
    ]


def test_seed_body_creates_with_201(jf: JFrog) -> None:
    template = jf.template()
    rule = jf.rule(template["id"])
    r = jf.call("POST", "/policies", json=with_rule(SEED_PUT_BODY, rule["id"]))
    assert r.status_code == 201, r.text
    _same_shape({**SEED_PUT_RESPONSE, "id": "x"}, r.json())
    assert r.headers["location"].endswith(f"/unifiedpolicy/api/v1/policies/{r.json()['id']}")
