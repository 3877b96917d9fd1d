"""Scopes, list filters and keyset pagination, health endpoints and the database-down contract."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from policyhub.domain.selectors import matches, parse_selector
from policyhub.http.app import create_app
from policyhub.settings import Settings
from tests.conftest import OrgClient


def test_scope_tree_crud_and_delete_rules(org: OrgClient) -> None:
    ws = org.post("scopes", json={"kind": "workspace", "key": "ws", "name": "Workspace"})
    assert ws.status_code == 201 and ws.json()["path"] == "ws"
    repo = org.post("scopes", json={"kind": "repo", "key": "api", "parent": "ws"})
    assert repo.status_code == 201 and repo.json()["path"] == "ws/api"
    assert repo.json()["parent_id"] == ws.json()["id"]
    assert org.post("scopes", json={"kind": "repo", "key": "api", "parent": "ws"}).status_code == 409
    assert org.post("scopes", json={"kind": "repo", "key": "x", "parent": "nope"}).status_code == 400
    assert org.post("scopes", json={"kind": "Bad Kind", "key": "x"}).status_code == 400
    assert org.post("scopes", json={"kind": "repo", "key": "a/b"}).status_code == 400
    assert org.get("scopes/ws/api").json()["id"] == repo.json()["id"]
    assert org.get(f"scopes/{repo.json()['id']}").json()["path"] == "ws/api"
    assert [s["path"] for s in org.get("scopes?under=ws").json()] == ["ws", "ws/api"]
    assert org.delete("scopes/ws").status_code == 409, "has children"
    org.create_policy("in-repo", scope="ws/api")
    r = org.delete("scopes/ws/api")
    assert r.status_code == 409 and "live" in r.json()["detail"]
    org.delete("policies/in-repo")
    assert org.delete("scopes/ws/api").status_code == 409, "archived history still lives there"
    org.post("scopes", json={"kind": "repo", "key": "empty", "parent": "ws"})
    assert org.delete("scopes/ws/empty").status_code == 204
    assert org.get("scopes/ws/empty").status_code == 404


def test_list_filters(org: OrgClient) -> None:
    org.create_policy("a-one", labels={"env": "prod", "team": "x"})
    org.create_policy("a-two", labels={"env": "dev"}, enabled=False)
    org.create_policy("b-three", labels={"env": "prod"})
    org.create_policy("gone")
    org.delete("policies/gone")

    def names(query: str) -> list[str]:
        r = org.get(f"policies?{query}")
        assert r.status_code == 200, r.text
        return [p["name"] for p in r.json()["items"]]

    assert names("") == ["a-one", "a-two", "b-three"]
    assert names("name_prefix=a-") == ["a-one", "a-two"]
    assert names("enabled=false") == ["a-two"]
    assert names("label_selector=env%3Dprod") == ["a-one", "b-three"]
    assert names("label_selector=env!%3Dprod") == ["a-two"]
    assert names("label_selector=team") == ["a-one"]
    assert names("label_selector=!team") == ["a-two", "b-three"]
    assert names("label_selector=env%20in%20(dev,qa)") == ["a-two"]
    assert names("label_selector=env%3Dprod,team%3Dx") == ["a-one"]
    assert names("archived=true") == ["gone"]
    assert names("type=document&name_prefix=b") == ["b-three"]
    assert names("type=other") == []


SELECTORS = [
    "env=prod",
    "env!=prod",
    "team",
    "!team",
    "env in (dev,qa)",
    "env notin (dev)",
    "env=prod,team=x",
    "env==dev",
    "nope",
    "!nope,env",
]


@pytest.mark.parametrize("selector", SELECTORS)
def test_sql_label_filter_agrees_with_the_in_memory_matcher(org: OrgClient, selector: str) -> None:
    labelled = {"p1": {"env": "prod", "team": "x"}, "p2": {"env": "dev"}, "p3": {}, "p4": {"env": "qa", "team": "y"}}
    for name, labels in labelled.items():
        org.create_policy(name, labels=labels)
    listed = [p["name"] for p in org.get("policies", params={"label_selector": selector}).json()["items"]]
    requirements = parse_selector(selector)
    assert listed == [name for name, labels in labelled.items() if matches(requirements, labels)]


def test_keyset_pagination_visits_every_policy_once(org: OrgClient) -> None:
    for i in range(7):
        org.create_policy(f"p{i}")
    seen, token, pages = [], None, 0
    while True:
        r = org.get("policies", params={"limit": 3, **({"page_token": token} if token else {})})
        body = r.json()
        seen += [p["name"] for p in body["items"]]
        pages += 1
        token = body["next_page_token"]
        if not token:
            break
    assert seen == [f"p{i}" for i in range(7)] and pages == 3
    assert org.get("policies?limit=100000").status_code == 200, "limit is capped, not refused"


def test_events_filter_and_pagination(org: OrgClient) -> None:
    org.create_policy("ev", {"v": 0})
    for i in range(4):
        org.patch("policies/ev", merge={"spec": {"v": i + 1}})
    r = org.get("policies/ev/events", params={"type": "new_version", "limit": 2})
    assert [e["type"] for e in r.json()["items"]] == ["new_version", "new_version"]
    rest = org.get("policies/ev/events", params={"type": "new_version", "page_token": r.json()["next_page_token"]})
    assert len(rest.json()["items"]) == 2 and rest.json()["next_page_token"] is None
    all_events = org.get("events", params={"type": "creation,new_version", "limit": 500}).json()["items"]
    assert [e["type"] for e in all_events] == ["creation"] + ["new_version"] * 4
    seqs = [e["seq"] for e in org.get("events", params={"limit": 500}).json()["items"]]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


def test_policy_types_are_listed_with_schemas(org: OrgClient) -> None:
    types = {t["name"]: t for t in org.client.get("/v1/policy-types", headers=org.headers()).json()}
    assert "document" in types and types["document"]["spec_schema"]["type"] == "object"
    assert org.client.get("/v1/policy-types/document", headers=org.headers()).status_code == 200
    assert org.client.get("/v1/policy-types/nope", headers=org.headers()).status_code == 404


def test_health_metrics_and_openapi(app_client: TestClient) -> None:
    assert app_client.get("/healthz").json() == {"status": "ok"}
    assert app_client.get("/readyz").status_code == 200
    metrics = app_client.get("/metrics")
    assert metrics.status_code == 200 and "policyhub_http_requests_total" in metrics.text
    spec = app_client.get("/openapi.json").json()
    assert "/v1/orgs/{org}/policies/{ref}" in spec["paths"]
    patch_body = spec["paths"]["/v1/orgs/{org}/policies/{ref}"]["patch"]["requestBody"]["content"]
    assert {"application/merge-patch+json", "application/json-patch+json"} <= set(patch_body)
    assert "PolicyCreate" in spec["components"]["schemas"]
    assert app_client.get("/docs").status_code == 200


def test_database_down_is_503_with_retry_after_and_health_stays_up() -> None:
    settings = Settings(
        database_url="postgresql+psycopg://postgres@127.0.0.1:1/none", access_log=False, db_connect_timeout_s=1
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        assert client.get("/healthz").status_code == 200
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.headers["retry-after"]
        for method, path in (("GET", "/v1/orgs/x/policies"), ("POST", "/v1/orgs/x/policies")):
            r = client.request(method, path, headers={"Authorization": "Bearer phk_whatever"}, json={})
            assert r.status_code == 503, r.text
            assert r.headers["retry-after"] and r.json()["status"] == 503
