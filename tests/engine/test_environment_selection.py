"""Selection by environment attachment or by name never reaches a policy the requested scope would not select.

Issue 11: a viewer bound to scope ``hr`` asked a decision at ``hr`` naming an environment to which a
``payments`` policy was attached, and got that policy's rules in the answer and in the decision log.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.compat.kosli.support import env
from tests.conftest import OrgClient

SCHEMA = "https://kosli.com/schemas/policy/environment/v1"
PROVENANCE = {"_schema": SCHEMA, "artifacts": {"provenance": {"required": True}}}
UNPROVEN = {"name": "backend:1", "fingerprint": "a" * 64, "trails": []}


@pytest.fixture
def world(org: OrgClient) -> dict[str, str]:
    """Scopes ``hr`` and ``payments``; a Kosli policy at the org level, at each scope, all attached to ``prod``."""
    for key in ("hr", "payments"):
        assert org.post("scopes", json={"kind": "workspace", "key": key}).status_code == 201
    ids = {}
    for name, scope in [("org-rules", None), ("hr-rules", "hr"), ("pay-rules", "payments")]:
        body = {"name": name, "type": "kosli.environment", "scope": scope, "spec": PROVENANCE}
        r = org.post("policies", json=body)
        assert r.status_code == 201, r.text
        ids[name] = r.json()["id"]
    env(org, "prod", policies=["org-rules", "hr-rules", "pay-rules"])
    return ids


def decide(org: OrgClient, scope: str, token: str, **extra: Any) -> Any:
    body = {"point": "environment", "scope": scope, "input": {"environment": "prod", "artifacts": [UNPROVEN]}}
    return org.post("decisions", json={**body, **extra}, token=token)


def test_an_attachment_selects_only_policies_of_the_requested_scope(org: OrgClient, world: dict[str, str]) -> None:
    hr_viewer = org.key("viewer", scope="hr")
    r = decide(org, "hr", hr_viewer)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert [x["name"] for x in answer["results"]] == ["org-rules", "hr-rules"]
    assert answer["decision"] == "deny"  # the policies that do apply still run
    assert world["pay-rules"] not in r.text and "pay-rules" not in r.text

    org.container.decisions.log.flush()
    logged = org.get(f"decisions/{answer['id']}", token=hr_viewer)
    assert logged.status_code == 200, logged.text
    assert [x["policy_id"] for x in logged.json()["results"]] == [world["org-rules"], world["hr-rules"]]
    assert world["pay-rules"] not in logged.text and "pay-rules" not in logged.text
    page = org.get("decisions", token=hr_viewer, params={"point": "environment"})
    assert page.status_code == 200 and answer["id"] in page.text
    assert world["pay-rules"] not in page.text and "pay-rules" not in page.text


def test_the_scope_of_the_policy_still_uses_it(org: OrgClient, world: dict[str, str]) -> None:
    pay_viewer = org.key("viewer", scope="payments")
    r = decide(org, "payments", pay_viewer)
    assert r.status_code == 200, r.text
    assert [x["name"] for x in r.json()["results"]] == ["org-rules", "pay-rules"]
    # At the org level only the org's own policy applies, whatever is attached.
    r = decide(org, "", org.token)
    assert [x["name"] for x in r.json()["results"]] == ["org-rules"]


def test_naming_a_policy_of_another_scope_is_like_naming_a_missing_one(org: OrgClient, world: dict[str, str]) -> None:
    hr_viewer = org.key("viewer", scope="hr")
    other = decide(org, "hr", hr_viewer, policies=["pay-rules"])
    missing = decide(org, "hr", hr_viewer, policies=["no-such-rules"])
    assert other.status_code == missing.status_code == 400
    assert other.json()["detail"].replace("pay-rules", "X") == missing.json()["detail"].replace("no-such-rules", "X")
    named = decide(org, "hr", hr_viewer, policies=["hr-rules"])
    assert named.status_code == 200 and [x["name"] for x in named.json()["results"]] == ["hr-rules"]
    named = decide(org, "payments", org.token, policies=["pay-rules"])
    assert named.status_code == 200 and [x["name"] for x in named.json()["results"]] == ["pay-rules"]
