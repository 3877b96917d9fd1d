"""Runs cases.yaml: each case on a fresh org holding a template, a rule and a policy (both backends)."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import OrgClient

from .conftest import BASE, POLICY, RULE, SEED_PUT_BODY, TEMPLATE, JFrog, World

CASES: list[dict[str, Any]] = yaml.safe_load((Path(__file__).parent / "cases.yaml").read_text())
BASES = {"policy": POLICY, "seed": SEED_PUT_BODY, "rule": RULE, "template": TEMPLATE}


def _fill(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        for key, real in names.items():
            value = value.replace("{" + key + "}", real)
        return value
    if isinstance(value, list):
        return [_fill(v, names) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, names) for k, v in value.items()}
    return value


def _body(case: dict[str, Any], world: World) -> Any:
    if "body" in case:
        return case["body"]
    body = copy.deepcopy(BASES[case["base"]])
    if case["base"] in ("policy", "seed"):
        body["rule_ids"] = ["{rule_id}"]
    if case["base"] == "rule":
        body["template_id"] = "{template_id}"
    body.update(case.get("set", {}))
    for key in case.get("remove", []):
        body.pop(key)
    return body


def _token(auth: str, org: OrgClient, other_org: OrgClient) -> str | None:
    if auth in ("viewer", "editor"):
        return org.key(auth)
    return {"admin": org.token, "other": other_org.token, "bad": "phk_unknown_key_0123456789"}.get(auth)


def _subset(expected: Any, actual: Any) -> bool:
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(k in actual and _subset(v, actual[k]) for k, v in expected.items())
    if isinstance(expected, list):
        return isinstance(actual, list) and len(expected) == len(actual) and all(map(_subset, expected, actual))
    return bool(expected == actual)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case(case: dict[str, Any], world: World, other_org: OrgClient) -> None:
    other_template = JFrog(other_org).template()
    other_rule = JFrog(other_org).rule(other_template["id"])
    names = {
        "template_id": world.template["id"],
        "rule_id": world.rule["id"],
        "policy_id": world.policy["id"],
        "other_rule_id": other_rule["id"],
        "missing_uuid": str(uuid.uuid4()),
    }
    org = world.jf.org
    auth = case.get("auth", "admin")
    headers = {} if auth != "none" else {"Authorization": ""}
    kwargs: dict[str, Any] = {}
    if "raw" in case:
        kwargs["content"] = _fill(case["raw"], names).encode()
        if case.get("content_type"):  # no content_type: sent without one, as `jf api` does
            headers["Content-Type"] = case["content_type"]
    elif "body" in case or "base" in case:
        kwargs["json"] = _fill(_body(case, world), names)
    url = case["url"] if "url" in case else BASE + _fill(case["path"], names)
    if auth == "none":
        r = org.client.request(case["method"], url, headers={k: v for k, v in headers.items() if v}, **kwargs)
    else:
        r = org.client.request(
            case["method"],
            url,
            headers={"Authorization": f"Bearer {_token(auth, org, other_org)}", **headers},
            **kwargs,
        )
    assert r.status_code == case["status"], r.text
    if case["status"] == 204:
        assert r.content == b""
        return
    body = r.json()
    if "json" in case:
        assert _subset(_fill(case["json"], names), body), json.dumps(body, indent=1)
    if case["status"] >= 400:
        assert set(body) == {"errors"} and body["errors"], body
        assert all(set(e) == {"code", "message", "field"} for e in body["errors"]), body
        for expected in case.get("errors", []):
            assert any(_subset(expected, e) for e in body["errors"]), (expected, body)
