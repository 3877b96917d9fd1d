"""Envoy's HTTP ext_authz and nginx's auth_request check endpoints, through the real app (SQLite and
PostgreSQL), with the request shape Envoy's ``http_service`` sends: the original method, the path
prefix followed by the original path and query, the allowed headers, and PolicyHub's key added by
``authorization_request.headers_to_add``."""

from __future__ import annotations

from typing import Any

import pytest

from policyhub.errors import NotFound
from policyhub.http.extauthz.routes import split_target
from policyhub.http.extauthz.translate import OriginalRequest, client_ip, http_request_input
from tests.conftest import OrgClient


def check(
    org: OrgClient,
    path: str,
    method: str = "GET",
    key: str | None = None,
    *,
    nginx: bool = False,
    headers: dict[str, str] | None = None,
    scope: str | None = None,
    **kw: Any,
) -> Any:
    face = "auth_request" if nginx else "ext_authz"
    where = f"scopes/{scope}/-" if scope else "-"
    sent = {"x-policyhub-key": key or org.token, "x-forwarded-for": "203.0.113.9", **(headers or {})}
    return org.client.request(method, f"/{face}/orgs/{org.slug}/{where}{path}", headers=sent, **kw)


def policy(org: OrgClient, name: str, type_name: str, spec: dict[str, Any], **fields: Any) -> dict[str, Any]:
    r = org.post("policies", json={"name": name, "type": type_name, "spec": spec, **fields})
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


def logged(org: OrgClient, **query: str) -> list[dict[str, Any]]:
    org.container.decisions.log.flush()
    r = org.get("decisions", params=query)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


# -- pure translation ---------------------------------------------------------------------------------
def test_the_original_request_becomes_an_http_request_input() -> None:
    data = http_request_input(
        OriginalRequest(
            "post",
            "/api/users?a=1&a=2&b=",
            {
                "x-forwarded-for": "198.51.100.1, 203.0.113.9",
                "x-policyhub-key": "secret",
                "x-forwarded-user": "ann",
                "content-type": "application/json",
                "content-length": "9",
            },
            body=b'{"n": 1}',
        )
    )
    assert data == {
        "method": "POST",
        "path": "/api/users",
        "query": {"a": ["1", "2"], "b": ""},
        "headers": {
            "x-forwarded-for": "198.51.100.1, 203.0.113.9",
            "x-forwarded-user": "ann",
            "content-type": "application/json",
        },
        "client_ip": "203.0.113.9",  # the last hop's, never what the client claimed first
        "user": "ann",
        "body": {"n": 1},
    }


@pytest.mark.parametrize(
    ("headers", "ip"),
    [
        ({}, None),
        ({"x-real-ip": "10.0.0.1"}, "10.0.0.1"),
        ({"x-forwarded-for": "1.1.1.1,2.2.2.2", "x-real-ip": "3.3.3.3"}, "2.2.2.2"),
    ],
)
def test_client_ip_rule(headers: dict[str, str], ip: str | None) -> None:
    assert client_ip(headers) == ip


@pytest.mark.parametrize(
    ("rest", "expected"),
    [
        ("-/a/b", (None, "/a/b")),
        ("-", (None, "/")),
        ("scopes/p/q/-/x/-/y", ("p/q", "/x/-/y")),
        ("scopes/p/-", ("p", "/")),
    ],
)
def test_the_check_path_names_the_scope_then_the_original_path(rest: str, expected: tuple[str | None, str]) -> None:
    assert split_target(rest) == expected


@pytest.mark.parametrize("rest", ["api/users", "scopes/-/x", "scopes/p"])
def test_a_check_path_without_its_separator_is_a_404(rest: str) -> None:
    with pytest.raises(NotFound):
        split_target(rest)


# -- through the app ----------------------------------------------------------------------------------
def test_allow_is_a_200_with_rate_limit_headers_and_throttling_a_429(org: OrgClient) -> None:
    policy(org, "per-user", "syftspace.rate_limit", {"limit": "2/m"})
    user = {"x-forwarded-user": "ann@x.org"}
    first = check(org, "/api/users?page=1", "POST", headers=user)
    assert first.status_code == 200, first.text
    assert (first.headers["ratelimit-limit"], first.headers["ratelimit-remaining"]) == ("2", "1")
    assert first.headers["x-policyhub-decision"] == "allow"
    assert check(org, "/api/users", headers=user).status_code == 200
    third = check(org, "/api/users", "DELETE", headers=user)
    assert third.status_code == 429
    assert third.headers["ratelimit-remaining"] == "0" and 1 <= int(third.headers["retry-after"]) <= 61
    body = third.json()
    assert body["decision"] == "deny" and body["policies"] == ["per-user"]
    assert body["reasons"][0].startswith("Rate limit exceeded")
    assert check(org, "/api/users", headers={"x-forwarded-user": "bob@x.org"}).status_code == 200
    denied = logged(org, source="envoy_http", decision="deny")
    assert [(d["input"]["method"], d["input"]["user"], d["input"]["path"]) for d in denied] == [
        ("DELETE", "ann@x.org", "/api/users")
    ]
    assert "secret" not in str(denied) and "x-policyhub-key" not in denied[0]["input"]["headers"]


def test_an_ip_deny_list_is_a_403_and_nginx_hears_403_with_the_status_to_show(org: OrgClient) -> None:
    policy(org, "blocked", "apinizer.policy-black-ip", {"ipList": ["192.0.2.0/24"]})
    assert check(org, "/x", headers={"x-forwarded-for": "192.0.2.7"}).status_code == 403
    # a client cannot slip past by claiming another address first: the proxy's appended hop counts
    assert check(org, "/x", headers={"x-forwarded-for": "10.9.9.9, 192.0.2.7"}).status_code == 403
    assert check(org, "/x", headers={"x-forwarded-for": "192.0.2.7, 10.9.9.9"}).status_code == 200
    r = check(org, "/x", nginx=True, headers={"x-forwarded-for": "192.0.2.8"})
    assert (r.status_code, r.headers["x-policyhub-status"]) == (403, "403")
    assert [d["source"] for d in logged(org, decision="deny")] == ["nginx", "envoy_http", "envoy_http"]


def test_nginx_throttling_is_a_403_carrying_429_and_honours_the_original_method(org: OrgClient) -> None:
    policy(org, "one", "syftspace.rate_limit", {"limit": "1/m"})
    assert check(org, "/p", nginx=True, headers={"x-original-method": "PUT"}).status_code == 200
    r = check(org, "/p", nginx=True, headers={"x-original-method": "PUT"})
    assert (r.status_code, r.headers["x-policyhub-status"]) == (403, "429")
    assert int(r.headers["retry-after"]) >= 1
    (entry,) = logged(org, source="nginx", decision="deny")
    assert entry["input"]["method"] == "PUT"


def test_envoy_does_not_let_a_client_choose_its_method(org: OrgClient) -> None:
    policy(org, "one", "syftspace.rate_limit", {"limit": "1/m"})
    check(org, "/p", "GET")
    check(org, "/p", "GET", headers={"x-original-method": "PUT"})
    (entry,) = logged(org, source="envoy_http", decision="deny")
    assert entry["input"]["method"] == "GET"


def test_a_scope_in_the_path_selects_its_policies(org: OrgClient) -> None:
    assert org.post("scopes", json={"kind": "project", "key": "shop"}).status_code == 201
    assert org.post("scopes", json={"kind": "endpoint", "key": "api", "parent": "shop"}).status_code == 201
    policy(org, "no-bots", "syftspace.access", {"denied_users": ["bot@*"]}, scope="shop/api")
    bot = {"x-forwarded-user": "bot@x"}
    assert check(org, "/any", scope="shop/api", headers=bot).status_code == 403
    assert check(org, "/any", headers=bot).status_code == 200  # the org level has no such policy
    assert check(org, "/any", scope="nowhere", headers=bot).status_code == 404


@pytest.mark.parametrize(("key", "status"), [("", 401), ("phk_not_a_key", 401)])
def test_a_missing_or_unknown_key_is_refused(org: OrgClient, key: str, status: int) -> None:
    r = org.client.get(f"/ext_authz/orgs/{org.slug}/-/x", headers={"x-policyhub-key": key} if key else {})
    assert r.status_code == status
    assert "www-authenticate" not in r.headers  # the proxy hands it to the client: no browser prompt
    assert "x-policyhub-key" in r.text.lower() or key


def test_a_viewer_key_may_ask_and_an_agent_key_may_not(org: OrgClient) -> None:
    assert check(org, "/x", key=org.key("viewer")).status_code == 200
    r = check(org, "/x", key=org.key("agent"))
    assert r.status_code == 403 and "agent" in r.text


def test_the_clients_authorization_header_is_the_original_requests_not_policyhubs(org: OrgClient) -> None:
    r = org.client.get(f"/ext_authz/orgs/{org.slug}/-/x", headers={"authorization": f"Bearer {org.token}"})
    assert r.status_code == 401


def test_another_orgs_path_is_a_404(org: OrgClient, other_org: OrgClient) -> None:
    r = org.client.get(f"/ext_authz/orgs/{other_org.slug}/-/x", headers={"x-policyhub-key": org.token})
    assert r.status_code == 404


def test_the_check_routes_mount_in_another_app(org: OrgClient) -> None:
    """The face needs only ``app.state.container``: an agent's app can serve it as it is."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from policyhub.http import extauthz
    from policyhub.http.problems import ErrorFaces, install

    other = FastAPI()
    other.state.container = org.container
    faces = ErrorFaces()
    install(other, faces)
    extauthz.install(other, faces)
    policy(org, "no-bots", "syftspace.access", {"denied_users": ["bot@*"]})
    with TestClient(other) as client:
        sent = {"x-policyhub-key": org.token, "x-forwarded-user": "bot@x"}
        assert client.get(f"/ext_authz/orgs/{org.slug}/-/x", headers=sent).status_code == 403
        assert (
            client.get(f"/ext_authz/orgs/{org.slug}/-/x", headers={**sent, "x-forwarded-user": "a@x"}).status_code
            == 200
        )
        assert client.get(f"/ext_authz/orgs/{org.slug}/-/x").status_code == 401
