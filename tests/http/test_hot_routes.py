"""The hottest routes are declared twice: a plain Starlette route (``HotRoute``) serves the traffic and a
FastAPI twin exists only for the OpenAPI document. These tests hold the two together: for every hot route
and method, the documented twin exists, names the same path parameters, and documents exactly the query
parameters the hot route reads and a body the hot route accepts (each documented media type, a closed
object's documented members at their defaults, no undocumented member). A parameter or field added to one
declaration and not the other fails here."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.datastructures import QueryParams
from starlette.requests import HTTPConnection

from policyhub.http.routing import HotRoute
from tests.conftest import OrgClient

#: A request each hot operation answers with 2xx (policy writes as dry runs: nothing is written), the
#: policy ``p`` existing; and a JSON Patch for the routes that document ``application/json-patch+json``.
VALID: dict[tuple[str, str], dict[str, Any]] = {
    ("/v1/orgs/{org}/policies/{ref}", "GET"): {},
    ("/v1/orgs/{org}/policies/{ref}", "PUT"): {"json": {"type": "document", "spec": {"n": 2}}},
    ("/v1/orgs/{org}/policies/{ref}", "PATCH"): {"json": {"spec": {"n": 3}}},
    ("/v1/orgs/{org}/policies/{ref}", "DELETE"): {},
    ("/v1/orgs/{org}/decisions", "POST"): {"json": {"point": "http_request", "input": {"path": "/a"}}},
    ("/v1/orgs/{org}/decisions/batch", "POST"): {
        "json": {"requests": [{"point": "http_request", "input": {"path": "/a"}}]}
    },
}
JSON_PATCH_BODY = [{"op": "replace", "path": "/spec/n", "value": 4}]
#: A harmless value for each query parameter the hot operations document.
QUERY_VALUES = {"dry_run": "true", "comment": "checked by test_hot_routes"}
UNDOCUMENTED = "zz_undocumented_member"


@pytest.fixture(scope="module")
def spec(app_client: TestClient) -> dict[str, Any]:
    r = app_client.get("/openapi.json")
    assert r.status_code == 200
    return dict(r.json())


def hot_operations(client: TestClient) -> list[tuple[HotRoute, str]]:
    routes = [r for r in client.app.router.routes if isinstance(r, HotRoute)]  # type: ignore[attr-defined]
    return [(route, method) for route in routes for method in sorted(route.methods or ())]


def _operation(spec: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    operation = spec["paths"].get(path, {}).get(method.lower())
    assert operation is not None, f"{method} {path} is served by a hot route but not documented"
    return dict(operation)


def _parameters(operation: dict[str, Any], where: str) -> set[str]:
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == where}


def _url(org: OrgClient, path: str, query: dict[str, str] | None = None) -> str:
    url = path.replace("{org}", org.slug).replace("{ref}", "p")
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def _send(org: OrgClient, path: str, method: str, query: dict[str, str], **request: Any) -> Any:
    return org.request(method, _url(org, path, query), **request)


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def test_the_hot_routes_are_the_ones_known_here(app_client: TestClient) -> None:
    """A new hot route needs a valid request in VALID, so that the checks below cover it."""
    assert {(route.path, method) for route, method in hot_operations(app_client)} == set(VALID)


def test_each_hot_route_has_a_documented_twin_with_the_same_path_parameters(
    app_client: TestClient, spec: dict[str, Any]
) -> None:
    routes = list(app_client.app.router.routes)  # type: ignore[attr-defined]
    for hot, method in hot_operations(app_client):
        twins = [r for r in routes if isinstance(r, APIRoute) and r.path == hot.path and method in r.methods]
        assert len(twins) == 1, f"{method} {hot.path}: {len(twins)} FastAPI twins"
        twin = twins[0]
        assert twin.include_in_schema
        assert routes.index(hot) < routes.index(twin), f"{method} {hot.path}: the twin would serve the traffic"
        documented = _parameters(_operation(spec, hot.path, method), "path")
        assert set(hot.param_convertors) == set(twin.param_convertors) == documented, (method, hot.path)
        for name, convertor in hot.param_convertors.items():
            assert type(convertor) is type(twin.param_convertors[name]), (method, hot.path, name)


class _Recorded(QueryParams):
    """Query parameters that note each name read (``*``: all of them were listed)."""

    names: set[str] = set()

    def get(self, key: Any, default: Any = None) -> Any:
        self.names.add(key)
        return super().get(key, default)

    def __getitem__(self, key: Any) -> str:
        self.names.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: Any) -> bool:
        self.names.add(key)
        return super().__contains__(key)

    def getlist(self, key: Any) -> list[str]:
        self.names.add(key)
        return super().getlist(key)

    def __iter__(self) -> Iterator[Any]:
        self.names.add("*")
        return super().__iter__()

    def multi_items(self) -> list[tuple[str, str]]:
        self.names.add("*")
        return super().multi_items()


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    names: set[str] = set()
    monkeypatch.setattr(_Recorded, "names", names)
    monkeypatch.setattr(HTTPConnection, "query_params", property(lambda self: _Recorded(self.scope["query_string"])))
    return names


def test_each_hot_route_reads_exactly_the_query_parameters_its_twin_documents(
    org: OrgClient, spec: dict[str, Any], recorded: set[str]
) -> None:
    org.create_policy("p")
    for hot, method in hot_operations(org.client):
        documented = _parameters(_operation(spec, hot.path, method), "query")
        assert documented <= set(QUERY_VALUES), f"{method} {hot.path}: give QUERY_VALUES a value for {documented}"
        recorded.clear()
        query = {name: QUERY_VALUES[name] for name in sorted(documented)}
        r = _send(org, hot.path, method, query, **VALID[hot.path, method])
        assert r.status_code < 300, (method, hot.path, r.status_code, r.text)
        assert recorded == documented, f"{method} {hot.path}: reads {sorted(recorded)}, documents {sorted(documented)}"


def test_each_hot_route_accepts_the_body_its_twin_documents(org: OrgClient, spec: dict[str, Any]) -> None:
    org.create_policy("p")
    for hot, method in hot_operations(org.client):
        body = _operation(spec, hot.path, method).get("requestBody")
        if body is None:
            continue
        query = {"dry_run": "true"} if "dry_run" in QUERY_VALUES and hot.path.endswith("{ref}") else {}
        valid = VALID[hot.path, method]["json"]
        where = f"{method} {hot.path}"
        for media, described in body["content"].items():
            sent = JSON_PATCH_BODY if media == "application/json-patch+json" else valid
            r = _send(org, hot.path, method, query, json=sent, headers={"Content-Type": media})
            assert r.status_code < 300, (where, media, r.status_code, r.text)
            _check_members(org, hot.path, method, query, media, valid, _resolve(spec, described["schema"]), spec)
        r = _send(org, hot.path, method, query, content=b"{}", headers={"Content-Type": "text/plain"})
        assert r.status_code == 415, (where, "text/plain is not documented", r.status_code)


def _check_members(
    org: OrgClient,
    path: str,
    method: str,
    query: dict[str, str],
    media: str,
    valid: Any,
    schema: dict[str, Any],
    spec: dict[str, Any],
) -> None:
    """A closed object schema: each documented member with a default is accepted at that default, and a
    member it does not document is refused (4xx naming it). A ``null`` default is the document's way of
    saying "may be omitted" (an optional Pydantic field), not that ``null`` is accepted: not sent."""
    if "oneOf" in schema:  # one shape per decision point: the valid body's
        variants = [_resolve(spec, v) for v in schema["oneOf"]]
        schema = next(v for v in variants if v["properties"]["point"].get("const") == valid["point"])
    if schema.get("type") != "object" or schema.get("additionalProperties") is not False:
        return
    where = f"{method} {path} ({media})"
    for name, member in schema["properties"].items():
        if member.get("default") is not None and name not in valid:
            sent = {**valid, name: member["default"]}
            r = _send(org, path, method, query, json=sent, headers={"Content-Type": media})
            assert r.status_code < 300, (where, f"documented {name}={member['default']!r}", r.status_code, r.text)
    r = _send(org, path, method, query, json={**valid, UNDOCUMENTED: 1}, headers={"Content-Type": media})
    assert 400 <= r.status_code < 500 and UNDOCUMENTED in r.text, (where, r.status_code, r.text)
