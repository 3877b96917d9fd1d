"""Projects, API proxies and environments, and the dialect's OpenAPI description."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import OrgClient

from .helpers import ENDPOINTS, Apinizer


def test_projects_and_proxies_are_core_scopes(api: Apinizer, org: OrgClient) -> None:
    projects = org.get("/apiops/projects/").json()
    assert projects["status"] == "SUCCESS" and projects["resultCount"] == 1
    assert projects["resultList"][0]["name"] == "MyProject"
    proxies = org.get("/apiops/projects/MyProject/apiProxies/").json()
    assert proxies["resultList"] == [
        {
            "id": proxies["resultList"][0]["id"],
            "name": "MyAPI",
            "projectName": "MyProject",
            "description": "",
            "type": "REST",
            "relativePath": "/MyAPI",
            "endpointList": [{**e, "active": True} for e in ENDPOINTS],
            "soapToRest": False,
        }
    ]
    scope = org.get("scopes/MyProject/MyAPI").json()
    assert (scope["kind"], scope["key"], scope["path"]) == ("api_proxy", "MyAPI", "MyProject/MyAPI")
    assert org.get("scopes/MyProject").json()["kind"] == "apinizer_project"


def test_environments_are_core_resources(api: Apinizer, org: OrgClient) -> None:
    r = org.post("/apiops/environments/", json={"name": "staging", "description": "pre-production"})
    assert r.status_code == 200, r.text
    created = r.json()["resultList"][0]
    assert created["name"] == "staging" and created["description"] == "pre-production"
    listed = org.get("/apiops/environments/").json()
    assert [e["name"] for e in listed["resultList"]] == ["production", "staging", "test"]
    assert listed["resultCount"] == 3
    events = org.get("events").json()["items"]
    assert any(e["object_kind"] == "apinizer.environment" and e["type"] == "created" for e in events)


@pytest.mark.parametrize(
    ("path", "body", "status", "field"),
    [
        ("/apiops/projects/", {"name": "MyProject"}, 409, None),
        ("/apiops/projects/", {"name": "bad name"}, 400, "name"),
        ("/apiops/projects/", {"name": "P", "owner": "me"}, 400, "owner"),
        ("/apiops/projects/MyProject/apiProxies/", {"name": "MyAPI"}, 409, None),
        ("/apiops/projects/MyProject/apiProxies/", {"name": "X", "type": "GRPC"}, 400, "type"),
        (
            "/apiops/projects/MyProject/apiProxies/",
            {"name": "X", "endpointList": [{"endpoint": "users", "httpMethod": "GET"}]},
            400,
            "endpointList.0.endpoint",
        ),
        (
            "/apiops/projects/MyProject/apiProxies/",
            {"name": "X", "endpointList": [ENDPOINTS[0], ENDPOINTS[0]]},
            400,
            "endpointList.1",
        ),
        ("/apiops/environments/", {"name": "production"}, 409, None),
        ("/apiops/environments/", {"name": ""}, 400, "name"),
    ],
)
def test_management_errors(
    api: Apinizer, org: OrgClient, path: str, body: dict[str, Any], status: int, field: str | None
) -> None:
    r = org.post(path, json=body)
    assert r.status_code == status, r.text
    assert set(r.json()) >= {"error", "error_description"}
    if field:
        assert field in {e["field"] for e in r.json()["validation_errors"]}


def test_proxy_in_a_missing_project(api: Apinizer, org: OrgClient) -> None:
    r = org.post("/apiops/projects/Nope/apiProxies/", json={"name": "X"})
    assert r.status_code == 404
    assert r.json() == {"error": "not_found", "error_description": "Project 'Nope' not found"}
    assert org.get("/apiops/projects/Nope/apiProxies/").status_code == 404


def test_a_scope_of_another_kind_is_not_a_project(org: OrgClient) -> None:
    assert org.post("scopes", json={"kind": "project", "key": "Plain"}).status_code == 201
    r = org.get("/apiops/projects/Plain/apiProxies/")
    assert r.status_code == 404
    assert org.get("/apiops/projects/").json()["resultList"] == []


def test_roles(api: Apinizer, org: OrgClient) -> None:
    editor = org.key("editor")
    r = org.post("/apiops/projects/", json={"name": "Q"}, token=editor)
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    assert org.post("/apiops/environments/", json={"name": "qa"}, token=editor).status_code == 200
    viewer = org.key("viewer")
    assert org.post("/apiops/environments/", json={"name": "qa2"}, token=viewer).status_code == 403
    assert org.get("/apiops/environments/", token=viewer).status_code == 200


def test_other_org_sees_nothing(api: Apinizer, other_org: OrgClient) -> None:
    assert other_org.get("/apiops/projects/").json()["resultList"] == []
    assert other_org.get("/apiops/environments/").json()["resultList"] == []
    assert other_org.get("/apiops/projects/MyProject/apiProxies/").status_code == 404


def test_openapi_describes_the_routes(org: OrgClient) -> None:
    doc = org.client.get("/openapi.json").json()
    policy = doc["paths"]["/apiops/projects/{projectName}/apiProxies/{apiProxyName}/policies/{policyName}/"]
    assert set(policy) == {"post", "put", "delete"}
    body = policy["put"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/PolicyEnvelope"}
    ok = policy["put"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/StatusOut"}
    assert "/apiops/projects/{projectName}/apiProxies/{apiProxyName}/policies/" in doc["paths"]
    schemas = doc["components"]["schemas"]
    assert {"PolicyEnvelope", "DeleteEnvelope", "OperationMetadata", "ApinizerPolicy", "PolicyListOut"} <= set(schemas)
    assert "policy-api-based-throttling" in schemas["ApinizerPolicy"]["properties"]["type"]["enum"]
    assert "/apiops/projects/{projectName}/apiProxies/{apiProxyName}/policies/{policyName}" not in doc["paths"]


def test_endpoint_ids_are_stable_and_distinct(api: Apinizer, org: OrgClient) -> None:
    path = "/apiops/projects/MyProject/apiProxies/MyAPI/endpoints/"
    first = [e["id"] for e in org.get(path).json()["resultList"]]
    assert len(set(first)) == 3 and [e["id"] for e in org.get(path).json()["resultList"]] == first
