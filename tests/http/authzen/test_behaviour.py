"""The AuthZEN face beyond the certification scenario: authentication and tenancy, scopes, the decision
log, the evaluations semantics, obligations and rate limits, and write-time validation of both types."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.conftest import OrgClient

pytestmark = pytest.mark.xdist_group("authzen")

ALICE = {"type": "user", "id": "alice"}
DOC = {"type": "doc", "id": "d1"}
READ = {"name": "read"}
OPEN_RULES = {"rules": [{"id": "users-read", "subject": {"type": "user"}, "action": {"name": "read"}}]}


def ask(org: OrgClient, body: Any, endpoint: str = "evaluation", *, base: str | None = None, **kw: Any) -> Any:
    return org.client.post(
        f"{base or f'/orgs/{org.slug}'}/access/v1/{endpoint}",
        json=body,
        headers=org.headers(kw.pop("headers", None), **kw),
    )


def policy(org: OrgClient, name: str, type_: str, spec: Any, **fields: Any) -> Any:
    return org.post("policies", json={"name": name, "type": type_, "spec": spec, **fields})


def test_authentication_and_tenancy(org: OrgClient, other_org: OrgClient) -> None:
    assert policy(org, "open", "access_rules", OPEN_RULES).status_code == 201
    body = {"subject": ALICE, "action": READ, "resource": DOC}
    anonymous = org.client.post(f"/orgs/{org.slug}/access/v1/evaluation", json=body, headers={"X-Request-ID": "r-1"})
    assert anonymous.status_code == 401 and anonymous.headers["content-type"].startswith("text/plain")
    assert anonymous.text and anonymous.headers["x-request-id"] == "r-1" and "www-authenticate" in anonymous.headers
    # another org's key: that org does not exist for it
    assert ask(other_org, body, base=f"/orgs/{org.slug}").status_code == 404
    assert ask(org, body).json()["decision"] is True
    # the other org has no authzen policy: closed by default, and it says why
    denied = ask(other_org, body).json()
    assert denied["decision"] is False and "closed by default" in denied["context"]["reasons"][0]


def test_a_scope_is_a_pdp_of_its_own(org: OrgClient) -> None:
    assert org.post("scopes", json={"kind": "workspace", "key": "payments"}).status_code == 201
    deny_docs = {
        "rules": [
            {"effect": "deny", "resource": {"type": "doc"}, "reason": "docs are closed here"},
            *OPEN_RULES["rules"],
        ]
    }
    assert policy(org, "open", "access_rules", OPEN_RULES).status_code == 201
    assert policy(org, "closed-docs", "access_rules", deny_docs, scope="payments").status_code == 201
    body = {"subject": ALICE, "action": READ, "resource": DOC}
    assert ask(org, body).json()["decision"] is True
    scoped = ask(org, body, base=f"/orgs/{org.slug}/scopes/payments").json()
    assert scoped["decision"] is False and scoped["context"]["reasons"] == ["closed-docs: docs are closed here"]
    assert ask(org, body, base=f"/orgs/{org.slug}/scopes/nowhere").status_code == 404
    # a key bound to the scope may ask there, not at the org level above it
    token = org.key("viewer", scope="payments")
    assert ask(org, body, base=f"/orgs/{org.slug}/scopes/payments", token=token).status_code == 200
    assert ask(org, body, token=token).status_code == 403


def test_each_decision_is_in_the_decision_log_with_source_authzen(org: OrgClient) -> None:
    assert policy(org, "open", "access_rules", OPEN_RULES).status_code == 201
    answer = ask(org, {"subject": ALICE, "action": READ, "resource": DOC}).json()
    decision_id = answer["context"]["decision_id"]
    org.container.decisions.log.flush()  # the record was queued before the answer was sent
    logged = org.get(f"decisions/{decision_id}")
    assert logged.status_code == 200, logged.text
    assert logged.json()["source"] == "authzen" and logged.json()["point"] == "authzen"
    assert logged.json()["input"]["subject"]["id"] == "alice"


def test_evaluations_semantics(org: OrgClient) -> None:
    assert policy(org, "open", "access_rules", OPEN_RULES).status_code == 201
    docs = [{"resource": {"type": "doc", "id": str(i)}} for i in range(3)]
    mixed = [docs[0], {"action": {"name": "write"}, "resource": DOC}, docs[1]]
    base = {"subject": ALICE, "action": READ}

    def run(semantic: str | None, items: list[Any]) -> list[bool]:
        body = {**base, "evaluations": items, **({"options": {"evaluations_semantic": semantic}} if semantic else {})}
        r = ask(org, body, "evaluations")
        assert r.status_code == 200, r.text
        return [e["decision"] for e in r.json()["evaluations"]]

    assert run(None, mixed) == [True, False, True]
    assert run("execute_all", mixed) == [True, False, True]
    assert run("deny_on_first_deny", mixed) == [True, False]
    assert run("permit_on_first_permit", mixed) == [True]
    assert run("permit_on_first_permit", [mixed[1], mixed[1], docs[2]]) == [False, False, True]
    bad = ask(org, {**base, "evaluations": docs, "options": {"evaluations_semantic": "first_come"}}, "evaluations")
    assert bad.status_code == 400 and "evaluations_semantic" in bad.text
    assert ask(org, {**base, "evaluations": "all"}, "evaluations").status_code == 400
    # an invalid item is a closed decision in its place, saying why
    items = ask(org, {**base, "evaluations": [docs[0], {"resource": {"type": "doc"}}]}, "evaluations").json()
    assert items["evaluations"][1] == {
        "decision": False,
        "context": {"error": {"status": 400, "message": "resource.id: field required"}},
    }


def test_rate_limit_and_obligations_follow_the_obligations_profile(org: OrgClient) -> None:
    rules = {
        "rules": [
            {
                "id": "reads",
                "action": {"name": "read"},
                "rate_limit": {"limit": 2, "window_s": 60},
                "obligations": [{"type": "notification", "properties": {"to": "sec@example.com", "body": "read"}}],
            },
            {
                "id": "own-docs",
                "action": {"name": "edit"},
                "when": [{"path": "resource.properties.owner", "equals_path": "subject.id"}],
            },
        ]
    }
    assert policy(org, "limited", "access_rules", rules).status_code == 201
    body = {"subject": ALICE, "action": READ, "resource": DOC}
    first, second, third = (ask(org, body).json() for _ in range(3))
    assert first["decision"] is True and second["decision"] is True and third["decision"] is False
    # a permit: the profile's notification obligation; the rate limit only as information
    assert first["context"]["obligations"] == [
        {"id": "obl-1", "type": "notification", "properties": {"to": "sec@example.com", "body": "read"}}
    ]
    assert first["context"]["rate_limit"]["remaining"] == 1 and second["context"]["rate_limit"]["remaining"] == 0
    # the deny: PolicyHub's rate limit as a custom obligation (answer 429, retry after)
    custom = [o for o in third["context"]["obligations"] if o["type"] == "custom"]
    assert custom[0]["properties"]["vendor"] == "policyhub" and custom[0]["properties"]["action"] == "rate_limit"
    assert custom[0]["properties"]["retry_after_s"] > 0
    assert "rate limit of 2 per 60 s exceeded" in third["context"]["reasons"][0]
    # a PEP that declares it cannot do custom obligations does not get them
    declared = ask(org, {**body, "context": {"supported_obligations": ["notification"]}}).json()
    assert all(o["type"] != "custom" for o in declared["context"]["obligations"])
    # a search counts nothing: alice is still over the limit, and the search still finds the action
    found = ask(org, {"subject": ALICE, "resource": DOC}, "search/action").json()
    assert {"name": "read"} in found["results"]
    edit = {"subject": ALICE, "action": {"name": "edit"}}
    assert ask(org, {**edit, "resource": {**DOC, "properties": {"owner": "alice"}}}).json()["decision"] is True
    assert ask(org, {**edit, "resource": {**DOC, "properties": {"owner": "bob"}}}).json()["decision"] is False
    assert ask(org, {**edit, "resource": DOC}).json()["decision"] is False


REGO = """package pdp
import rego.v1
default allow := false
allow if input.subject.properties.level >= data.min_level
reasons contains sprintf_free if {
	not allow
	sprintf_free := concat(" ", ["level below", format_int(data.min_level, 10)])
}
obligations contains {"type": "step-up", "properties": {"acr_value": "urn:example:loa:3"}} if not allow
"""


def test_rego_policy_reasons_obligations_and_data(org: OrgClient) -> None:
    r = policy(org, "levels", "rego", {"module": REGO, "data": {"min_level": 3}})
    assert r.status_code == 201, r.text
    body = {"subject": {**ALICE, "properties": {"level": 2}}, "action": READ, "resource": DOC}
    denied = ask(org, body).json()
    assert denied["decision"] is False
    assert denied["context"]["reasons"] == ["levels: level below 3"]
    assert denied["context"]["obligations"][0]["type"] == "step-up"
    body["subject"]["properties"]["level"] = 3
    assert ask(org, body).json()["decision"] is True


@pytest.mark.parametrize(
    ("spec", "field", "text"),
    [
        ({"module": "package p\n\nallow if {\n  input.a ==\n}\n"}, "spec.module", "line 5"),
        (
            {"module": 'package p\nallow if { http.send({"method": "get", "url": "http://x"}) }'},
            "spec.module",
            "http.send",
        ),
        ({"module": "package p\ndeny := true"}, "spec.module", "'allow' rule"),
        ({"module": "allow := true"}, "spec.module", "package"),
        ({"module": "package p\nallow := true", "extra": 1}, "spec.extra", ""),
    ],
)
def test_rego_policies_are_checked_when_written(org: OrgClient, spec: Any, field: str, text: str) -> None:
    r = policy(org, "bad", "rego", spec)
    assert r.status_code == 400, r.text
    errors = r.json()["errors"]
    assert errors[0]["field"] == field and text in errors[0]["message"], errors


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"when": [{"path": "subject.properties.role", "equals": "a", "in": ["b"]}]}, "spec.rules.0.when.0"),
        ({"when": [{"path": "environment.x", "equals": 1}]}, "spec.rules.0.when.0.path"),
        ({"when": [{"path": "resource.properties.x", "detects": ["tarot"]}]}, "spec.rules.0.when.0"),
        ({"effect": "deny", "rate_limit": {"limit": 1, "window_s": 1}}, "spec.rules.0"),
        ({"subject": {"id": "x" * 600}}, "spec.rules.0.subject.id"),
        ({"action": {"name": ["read"] * 101}}, "spec.rules.0.action.name"),
    ],
)
def test_access_rules_are_checked_when_written(org: OrgClient, rule: Any, field: str) -> None:
    too_many = policy(org, "many", "access_rules", {"rules": [{"action": {"name": "read"}}] * 201})
    assert too_many.status_code == 400 and too_many.json()["errors"][0]["field"] == "spec.rules"
    r = policy(org, "bad", "access_rules", {"rules": [rule]})
    assert r.status_code == 400, r.text
    assert any(e["field"].startswith(field) for e in r.json()["errors"]), r.json()


def test_a_rego_policy_that_runs_too_long_denies_within_its_budget(org: OrgClient) -> None:
    slow = (
        "package slow\nimport rego.v1\ndefault allow := false\n"
        "allow if count({[a, b] | some a in data.xs; some b in data.xs}) > 0\n"
    )
    r = policy(org, "slow", "rego", {"module": slow, "data": {"xs": list(range(600))}})
    assert r.status_code == 201, r.text
    started = time.monotonic()
    answer = ask(org, {"subject": ALICE, "action": READ, "resource": DOC}).json()
    assert time.monotonic() - started < 5
    reason = answer["context"]["reasons"][0]
    assert answer["decision"] is False and ("budget" in reason or "deadline" in reason), answer
