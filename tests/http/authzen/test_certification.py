"""The AuthZEN certification scenario, every test ID of the Basic, Batch, Search and Discovery levels,
against the real app (httpx through the test client) on a real database, with the scenario's fixture
loaded as PolicyHub policies: once as an ``access_rules`` policy and once as a ``rego`` policy."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from policyhub.http.app import create_app
from policyhub.http.deps import Container
from tests.conftest import OrgClient, new_org
from tests.http.authzen.cases import CASES, Case, Req
from tests.http.authzen.fixture import FORMS

pytestmark = pytest.mark.xdist_group("authzen")


@pytest.fixture(scope="module", params=sorted(FORMS))
def pdp(request: pytest.FixtureRequest, app_client: TestClient, container: Container) -> OrgClient:
    """An org whose only authzen policy is the fixture, in one of its two forms."""
    org = new_org(app_client, container, prefix="authzen")
    policy_type, spec = FORMS[request.param]
    r = org.post("policies", json={"name": "certification-fixture", "type": policy_type, "spec": spec})
    assert r.status_code == 201, r.text
    return org


def send(org: OrgClient, req: Req) -> httpx.Response:
    headers = {"Authorization": f"Bearer {org.token}", **req.headers}
    if req.content_type:
        headers["Content-Type"] = req.content_type
    content = req.raw if req.raw is not None else httpx.Request("POST", "/", json=req.body).content
    return org.client.post(f"/orgs/{org.slug}/access/v1/{req.endpoint}", content=content, headers=headers)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_certification(pdp: OrgClient, case: Case) -> None:
    case.check([send(pdp, req) for req in case.requests])


def test_c_4_5_2_the_next_token_pages_through_the_results(pdp: OrgClient) -> None:
    search = {"subject": {"type": "user"}, "action": {"name": "read"}, "resource": {"type": "record", "id": "record-1"}}
    first = send(pdp, Req("search/subject", {**search, "page": {"limit": 1}})).json()
    assert first["page"]["next_token"] and first["page"]["total"] == 2
    second = send(pdp, Req("search/subject", {**search, "page": {"token": first["page"]["next_token"]}}))
    assert second.status_code == 200, second.text
    body = second.json()
    assert isinstance(body["page"], dict) and body["page"]["next_token"] == ""
    assert [e["id"] for e in first["results"] + body["results"]] == ["alice", "bob"]
    # the token belongs to its request: another search with it is a 400
    other = {**search, "action": {"name": "write"}, "page": {"token": first["page"]["next_token"]}}
    assert send(pdp, Req("search/subject", other)).status_code == 400
    assert send(pdp, Req("search/subject", {**search, "page": {"token": "garbage"}})).status_code == 400


@pytest.fixture(scope="module")
def https_client(container: Container) -> Iterator[TestClient]:
    """The app as served at a public HTTPS address (``POLICYHUB_PUBLIC_BASE_URL``)."""
    settings = container.settings.model_copy(update={"public_base_url": "https://pdp.example.com"})
    with TestClient(create_app(container=dataclasses.replace(container, settings=settings))) as client:
        yield client


@pytest.mark.parametrize("scope", [None, "payments/api"])
def test_c_6_discovery(pdp: OrgClient, https_client: TestClient, scope: str | None) -> None:
    base = f"/orgs/{pdp.slug}" + (f"/scopes/{scope}" if scope else "")
    r = https_client.get(f"/.well-known/authzen-configuration{base}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    meta: dict[str, Any] = r.json()
    pdp_id = meta["policy_decision_point"]
    assert pdp_id == f"https://pdp.example.com{base}"
    parts = urlsplit(pdp_id)
    assert not parts.query and not parts.fragment
    # the metadata's address is the PDP identifier with the well-known string inserted after the host
    assert (
        f"{parts.scheme}://{parts.netloc}/.well-known/authzen-configuration{parts.path}"
        == f"https://pdp.example.com{r.request.url.path}"
    )
    for name, path in {
        "access_evaluation_endpoint": "evaluation",
        "access_evaluations_endpoint": "evaluations",
        "search_subject_endpoint": "search/subject",
        "search_resource_endpoint": "search/resource",
        "search_action_endpoint": "search/action",
    }.items():
        assert meta[name] == f"{pdp_id}/access/v1/{path}"
    assert "custom" in meta["supported_obligations"]
    if scope is None:  # the advertised endpoint answers
        asked = {
            "subject": {"type": "user", "id": "alice"},
            "action": {"name": "read"},
            "resource": {"type": "record", "id": "record-1"},
        }
        answer = https_client.post(
            urlsplit(meta["access_evaluation_endpoint"]).path,
            json=asked,
            headers={"Authorization": f"Bearer {pdp.token}"},
        )
        assert answer.status_code == 200 and answer.json()["decision"] is True
