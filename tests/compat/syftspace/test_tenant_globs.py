"""Syft Space email globs run on RE2 (issue 11), through the real app: ordinary globs keep fnmatch's
meaning in decisions, and a list of globs too costly to compile is a 400 naming the first one over the
policy's budget, on the Syft Space face and on ``/v1``."""

from __future__ import annotations

import time
from typing import Any

from tests.conftest import OrgClient

from .conftest import SyftSpace

COSTLY = [f"*a{'?' * 150}b*{index}" for index in range(2000)]  # ~1,000 RE2 instructions each


def decide(org: OrgClient, scope: str, user: str) -> str:
    r = org.post("decisions", json={"point": "http_request", "scope": scope, "input": {"user": user}})
    assert r.status_code == 200, r.text
    return str(r.json()["decision"])


def test_globs_decide_as_fnmatch_does(ss: SyftSpace, org: OrgClient) -> None:
    endpoint = ss.endpoint()
    configuration: dict[str, Any] = {
        "allowed_users": ["*@openmined.org", "[a-c]?b*@x.org", "carol@example.com"],
        "denied_users": ["bob@openmined.org"],
    }
    policy = ss.policy(endpoint["id"], "Access list", "access", configuration)
    scope = org.get(f"policies/{policy['id']}").json()["scope"]
    answers = {
        user: decide(org, scope, user)
        for user in ("alice@openmined.org", "Bob@OpenMined.org", "abbey@x.org", "dab@x.org", "carol@example.com")
    }
    assert answers == {
        "alice@openmined.org": "allow",
        "Bob@OpenMined.org": "deny",  # more specific deny wins; emails compare case-insensitively
        "abbey@x.org": "allow",
        "dab@x.org": "deny",  # d is not in [a-c]
        "carol@example.com": "allow",
    }


def test_globs_too_costly_to_compile_are_a_400_on_both_faces(ss: SyftSpace, org: OrgClient) -> None:
    endpoint = ss.endpoint()
    body = {"name": "Costly", "policy_type": "access", "configuration": {"denied_users": COSTLY}}
    started = time.perf_counter()
    r = ss.call("POST", "/policies/", json={**body, "endpoint_id": endpoint["id"]})
    assert time.perf_counter() - started < 5
    assert r.status_code == 400, r.text
    assert "denied_users." in r.json()["detail"] and "together compile to more than" in r.json()["detail"]

    r = org.post("policies", json={"name": "costly", "type": "syftspace.access", "spec": {"denied_users": COSTLY}})
    assert r.status_code == 400, r.text
    (error,) = r.json()["errors"]
    assert error["field"].startswith("spec.denied_users.")
    index = int(error["field"].rsplit(".", 1)[1])
    assert 100 < index < len(COSTLY)  # the first hundreds fit
    fitting = {"denied_users": COSTLY[:100], "allowed_users": ["*@openmined.org"]}
    assert org.post("policies", json={"name": "fits", "type": "syftspace.access", "spec": fitting}).status_code == 201
