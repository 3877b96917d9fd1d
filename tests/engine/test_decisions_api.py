"""The decision API over the engine, with a test policy type: selection, combination, errors, log, access."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from policyhub.app import build_container
from policyhub.http.app import create_app
from policyhub.http.deps import Container
from policyhub.services.decision_log import LogPolicy
from tests.conftest import OrgClient, make_settings, new_org
from tests.engine.threshold_type import registry_with_threshold
from tests.own_app import own_client, own_container


@pytest.fixture(scope="module")
def engine_container(database_url: str) -> Iterator[Container]:
    with own_container(make_settings(database_url), registry_with_threshold()) as c:
        yield c


@pytest.fixture(scope="module")
def engine_client(engine_container: Container) -> Iterator[TestClient]:
    with own_client(engine_container) as client:
        yield client


@pytest.fixture
def org(engine_client: TestClient, engine_container: Container) -> OrgClient:
    o = new_org(engine_client, engine_container)
    for kind, key, parent in [("workspace", "ws", None), ("app", "api", "ws"), ("workspace", "other", None)]:
        assert o.post("scopes", json={"kind": kind, "key": key, "parent": parent}).status_code == 201
    return o


def threshold(org: OrgClient, name: str, *, scope: str | None = None, **spec: Any) -> dict[str, Any]:
    fields = {k: spec.pop(k) for k in ("enforcement", "enabled") if k in spec}
    body = {"name": name, "type": "test.threshold", "scope": scope, "spec": {"field": "n", "max": 10, **spec}, **fields}
    r = org.post("policies", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


def decide(org: OrgClient, n: int | None = None, scope: str | None = None, **extra: Any) -> dict[str, Any]:
    context = {} if n is None else {"n": n}
    r = org.post("decisions", json={"point": "http_request", "scope": scope, "input": {"context": context}, **extra})
    assert r.status_code == 200, r.text
    return dict(r.json())


def names(decision: dict[str, Any]) -> list[str]:
    return [r["name"] for r in decision["results"]]


def test_policies_apply_at_their_scope_and_below(org: OrgClient) -> None:
    threshold(org, "org-wide")
    threshold(org, "in-ws", scope="ws")
    threshold(org, "in-api", scope="ws/api")
    threshold(org, "elsewhere", scope="other")
    assert names(decide(org, 1, "ws/api")) == ["org-wide", "in-ws", "in-api"]
    assert names(decide(org, 1, "ws")) == ["org-wide", "in-ws"]
    assert names(decide(org, 1)) == ["org-wide"]
    assert names(decide(org, 1, "other")) == ["org-wide", "elsewhere"]


def test_the_answer_and_each_result(org: OrgClient) -> None:
    policy = threshold(org, "limit")
    allowed = decide(org, 3)
    assert allowed["decision"] == "allow"
    assert allowed["results"][0] | {"reasons": None} == {
        "policy_id": policy["id"],
        "name": "limit",
        "type": "test.threshold",
        "version": 1,
        "revision": 1,
        "scope": None,
        "enforcement": "enforce",
        "effect": "allow",
        "status": "pass",
        "reasons": None,
    }
    denied = decide(org, 11)
    assert denied["decision"] == "deny"
    assert denied["results"][0]["reasons"] == ["n=11 > 10"]
    assert denied["results"][0]["status"] == "violation"


@pytest.mark.parametrize(
    ("enforcement", "severity", "decision", "effect"),
    [
        ("enforce", "block", "deny", "deny"),
        ("warn", "block", "warn", "warn"),
        ("audit", "block", "allow", "audit"),
        ("enforce", "warn", "warn", "warn"),
        ("enforce", "log", "allow", "audit"),
        ("audit", "warn", "allow", "audit"),
    ],
)
def test_enforcement_modes(org: OrgClient, enforcement: str, severity: str, decision: str, effect: str) -> None:
    threshold(org, "p", enforcement=enforcement, severity=severity)
    answer = decide(org, 99)
    assert (answer["decision"], answer["results"][0]["effect"]) == (decision, effect)


def test_deny_beats_warn_beats_allow(org: OrgClient) -> None:
    threshold(org, "warns", enforcement="warn", max=5)
    threshold(org, "blocks", max=8)
    assert decide(org, 4)["decision"] == "allow"
    assert decide(org, 6)["decision"] == "warn"
    assert decide(org, 9)["decision"] == "deny"


def test_disabled_and_archived_policies_take_no_part(org: OrgClient) -> None:
    threshold(org, "off", enabled=False)
    archived = threshold(org, "gone")
    assert org.delete(f"policies/{archived['id']}").status_code == 200
    live = threshold(org, "live", max=100)
    answer = decide(org, 50)
    assert names(answer) == ["live"] and answer["decision"] == "allow"
    assert org.patch(f"policies/{live['id']}", merge={"enabled": False}).status_code == 200
    assert decide(org, 50)["results"] == []
    assert org.post(f"policies/{archived['id']}/unarchive").status_code == 200
    assert names(decide(org, 50)) == ["gone"]


def test_an_internal_error_denies_with_the_reason(org: OrgClient) -> None:
    threshold(org, "broken", explode=True)
    answer = decide(org, 1)
    assert answer["decision"] == "deny"
    assert answer["results"][0]["error"] is True
    assert answer["results"][0]["reasons"] == ["evaluation error: the evaluator broke"]


def test_fail_open_is_the_policys_own_choice(org: OrgClient) -> None:
    threshold(org, "lenient", explode=True, fail_open=True)
    answer = decide(org, 1)
    assert answer["decision"] == "allow"
    assert answer["results"][0]["error"] is True
    assert "fail-open" in answer["results"][0]["reasons"][0]


def test_a_policy_that_cannot_compile_denies(org: OrgClient) -> None:
    threshold(org, "uncompilable", field="uncompilable")
    answer = decide(org, 1)
    assert answer["decision"] == "deny"
    assert "cannot be compiled: cannot compile this" in answer["results"][0]["reasons"][0]


def test_not_applicable_results_only_when_explained(org: OrgClient) -> None:
    threshold(org, "needs-n")
    assert decide(org)["results"] == []
    explained = decide(org, explain=True)
    assert [(r["name"], r["effect"]) for r in explained["results"]] == [("needs-n", "not_applicable")]


def test_named_policies_narrow_the_decision(org: OrgClient) -> None:
    threshold(org, "a", max=1)
    threshold(org, "b", max=100)
    assert names(decide(org, 50, policies=["b"])) == ["b"]
    r = org.post("decisions", json={"point": "http_request", "input": {}, "policies": ["nope"]})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "policies"


def test_after_a_deny_counters_are_not_used(org: OrgClient, engine_container: Container) -> None:
    threshold(org, "a-denies", max=0)
    limited = threshold(org, "b-counts", uses_limiter=True)
    answer = decide(org, 5)
    assert answer["decision"] == "deny" and names(answer) == ["a-denies"]
    snapshot = engine_container.decisions.engine.snapshot(org.org_id)
    entry = snapshot.entry(limited["id"])
    assert entry is not None and entry.compiled.evaluations == 0  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"point": "nope", "input": {}}, 400, "point"),
        ({"point": "http_request", "input": {"bogus": 1}}, 400, "input.bogus"),
        ({"point": "http_request", "input": {"headers": {"a": 1}}}, 400, "input.headers.a"),
        ({"point": "http_request", "input": []}, 400, "input"),
        ({"point": "http_request"}, 400, "input"),
        ({"point": "http_request", "input": {}, "extra": 1}, 400, "extra"),
    ],
)
def test_bad_requests_name_the_field(org: OrgClient, body: dict[str, Any], status: int, field: str) -> None:
    r = org.post("decisions", json=body)
    assert r.status_code == status, r.text
    assert field in [e["field"] for e in r.json()["errors"]]


def test_unknown_scopes_and_other_orgs_are_not_found(
    org: OrgClient, engine_client: TestClient, engine_container: Container
) -> None:
    other = new_org(engine_client, engine_container, prefix="other")
    r = org.post("decisions", json={"point": "http_request", "scope": "nowhere", "input": {}})
    assert r.status_code == 404
    # Another org's scope path is as unknown as a path that never existed.
    assert other.post("scopes", json={"kind": "workspace", "key": "theirs"}).status_code == 201
    theirs = org.post("decisions", json={"point": "http_request", "scope": "theirs", "input": {}})
    nowhere = org.post("decisions", json={"point": "http_request", "scope": "nowhere2", "input": {}})
    assert theirs.status_code == nowhere.status_code == 404
    assert theirs.json()["detail"].replace("theirs", "X") == nowhere.json()["detail"].replace("nowhere2", "X")
    cross = org.client.post(
        f"/v1/orgs/{other.slug}/decisions", json={"point": "http_request", "input": {}}, headers=org.headers()
    )
    assert cross.status_code == 404


def test_who_may_ask(org: OrgClient) -> None:
    viewer = org.key("viewer")
    scoped = org.key("viewer", scope="ws")
    body = {"point": "http_request", "input": {}}
    assert org.post("decisions", json=body, token=viewer).status_code == 200
    assert org.post("decisions", json={**body, "scope": "ws/api"}, token=scoped).status_code == 200
    assert org.post("decisions", json=body, token=scoped).status_code == 403  # the org level is above its scope
    assert org.post("decisions", json={**body, "scope": "other"}, token=scoped).status_code == 404
    assert org.client.post(f"/v1/orgs/{org.slug}/decisions", json=body).status_code == 401


def test_batch_answers_each_request_in_order(org: OrgClient) -> None:
    threshold(org, "limit")
    items = [
        {"point": "http_request", "input": {"context": {"n": 1}}},
        {"point": "http_request", "scope": "missing", "input": {}},
        {"point": "http_request", "input": {"context": {"n": 20}}},
    ]
    r = org.post("decisions/batch", json={"requests": items})
    assert r.status_code == 200, r.text
    out = r.json()["decisions"]
    assert out[0]["decision"] == "allow"
    assert out[1]["error"]["status"] == 404
    assert out[2]["decision"] == "deny"
    too_many = org.post("decisions/batch", json={"requests": [items[0]] * 1001})
    assert too_many.status_code == 400
    assert org.post("decisions/batch", json={"requests": []}).status_code == 400


def test_decisions_are_logged_with_secrets_redacted(org: OrgClient, engine_container: Container) -> None:
    policy = threshold(org, "limit")
    body = {
        "point": "http_request",
        "input": {"headers": {"Authorization": "Bearer s3cret", "User-Agent": "curl/8"}, "context": {"n": 20}},
    }
    first = org.post("decisions", json=body).json()
    second = org.post("decisions", json=body).json()
    assert first["input_hash"] == second["input_hash"] and first["id"] != second["id"]
    engine_container.decisions.log.flush()
    logged = org.get(f"decisions/{first['id']}")
    assert logged.status_code == 200, logged.text
    record = logged.json()
    assert record["decision"] == "deny"
    assert record["input"]["headers"] == {"Authorization": "[REDACTED]", "User-Agent": "curl/8"}
    assert record["results"][0]["policy_id"] == policy["id"]
    assert "s3cret" not in logged.text
    by_policy = org.get("decisions", params={"policy": "limit", "decision": "deny"}).json()["items"]
    assert {d["id"] for d in by_policy} == {first["id"], second["id"]}


def test_the_log_pages_and_stays_in_its_org(
    org: OrgClient, engine_client: TestClient, engine_container: Container
) -> None:
    ids = [decide(org, i)["id"] for i in range(5)]
    engine_container.decisions.log.flush()
    seen: list[str] = []
    token = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"page_token": token} if token else {})}
        page = org.get("decisions", params=params).json()
        seen += [d["id"] for d in page["items"]]
        token = page["next_page_token"]
        if not token:
            break
    assert seen == list(reversed(ids))
    other = new_org(engine_client, engine_container, prefix="other")
    assert other.get(f"decisions/{ids[0]}").status_code == 404
    assert other.get("decisions").json()["items"] == []


def test_each_version_is_compiled_once(org: OrgClient, engine_container: Container) -> None:
    policy = threshold(org, "limit")
    decide(org, 1)
    before = engine_container.decisions.engine.cache.compiled
    for _ in range(5):
        decide(org, 1)
    assert engine_container.decisions.engine.cache.compiled == before
    assert org.patch(f"policies/{policy['id']}", merge={"spec": {"max": 0}}).status_code == 200
    assert decide(org, 1)["decision"] == "deny"
    assert engine_container.decisions.engine.cache.compiled == before + 1


def test_freshness_bound(org: OrgClient, engine_container: Container, database_url: str) -> None:
    """A replica sees its own acknowledged writes in its next decision; another replica's within ``refresh_s``."""
    engine = engine_container.decisions.engine
    log = engine_container.decisions.log
    policy = threshold(org, "limit")
    decide(org, 50)
    log.flush()
    kept, log.policy = log.policy, LogPolicy(enabled=False)  # no commits of this process but the test's own
    engine.refresh_s = 3600.0
    other = build_container(make_settings(database_url), registry=registry_with_threshold())
    try:
        # This replica's write: seen at once, whatever the bound.
        assert org.patch(f"policies/{policy['id']}", merge={"spec": {"max": 100}}).status_code == 200
        assert decide(org, 50)["decision"] == "allow"
        # Another replica's write (its own process, its own connections): this one may answer from the state
        # it last checked until the bound expires...
        with TestClient(create_app(container=other)) as replica:
            r = replica.patch(
                f"/v1/orgs/{org.slug}/policies/{policy['id']}",
                json={"spec": {"max": 1}},
                headers={**org.headers(), "Content-Type": "application/merge-patch+json"},
            )
            assert r.status_code == 200, r.text
        stale = decide(org, 50)
        assert stale["decision"] == "allow"
        engine.invalidate(org.org_id)  # ...which is what the bound's expiry does
        fresh = decide(org, 50)
        assert fresh["decision"] == "deny" and fresh["policy_state"] > stale["policy_state"]
    finally:
        engine.refresh_s = 0.0
        log.policy = kept
        other.decisions.log.close()
        other.db.dispose()


@pytest.mark.parametrize(
    "extra",
    [{"input": {"nope": 1}}, {"input": {}, "policies": ["anything"]}, {"input": {}}],
)
def test_a_hidden_scope_answers_like_a_missing_one(org: OrgClient, extra: dict[str, Any]) -> None:
    """A key bound to one scope learns nothing about another: not even whether its input would be valid."""
    scoped = org.key("viewer", scope="other")
    hidden = org.post("decisions", json={"point": "http_request", "scope": "ws", **extra}, token=scoped)
    missing = org.post("decisions", json={"point": "http_request", "scope": "zz", **extra}, token=scoped)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["detail"].replace("'ws'", "X") == missing.json()["detail"].replace("'zz'", "X")


def test_a_forbidden_item_fails_alone_in_a_batch(org: OrgClient) -> None:
    scoped = org.key("viewer", scope="ws")
    items = [{"point": "http_request", "input": {}}, {"point": "http_request", "scope": "ws", "input": {}}]
    r = org.post("decisions/batch", json={"requests": items}, token=scoped)
    assert r.status_code == 200, r.text
    first, second = r.json()["decisions"]
    assert first["error"]["status"] == 403 and second["decision"] == "allow"
