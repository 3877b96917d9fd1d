"""``/metrics``: optionally behind a token, and every route labelled by its template (issue 11: it was open
and labelled the hottest routes ``unmatched``)."""

from __future__ import annotations

import dataclasses
import re

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr, ValidationError

from policyhub.http.app import create_app
from policyhub.http.deps import Container
from policyhub.settings import Settings
from tests.conftest import OrgClient

TOKEN = "metrics-" + "s3cret" * 4


def requests_total(text: str, method: str, route: str, status: int) -> float:
    """The request counter of one label set in a Prometheus exposition (0 when absent)."""
    line = f'policyhub_http_requests_total{{method="{method}",route="{route}",status="{status}"}} '
    found = re.search(re.escape(line) + r"([0-9.e+]+)", text)
    return float(found.group(1)) if found else 0.0


def test_hot_routes_are_labelled_by_their_templates(org: OrgClient, app_client: TestClient) -> None:
    before = app_client.get("/metrics").text
    org.create_policy("limits")
    decision = {"point": "http_request", "input": {}}
    assert org.post("decisions", json=decision).status_code == 200
    assert org.post("decisions/batch", json={"requests": [decision]}).status_code == 200
    assert org.get("policies/limits").status_code == 200
    assert org.get("policies/no-such-policy").status_code == 404
    assert org.patch("policies/limits", merge={"spec": {"n": 2}}).status_code == 200
    after = app_client.get("/metrics")
    assert after.status_code == 200
    text = after.text
    for method, route, status, n in [
        ("POST", "/v1/orgs/{org}/decisions", 200, 1),
        ("POST", "/v1/orgs/{org}/decisions/batch", 200, 1),
        ("GET", "/v1/orgs/{org}/policies/{ref}", 200, 1),
        ("GET", "/v1/orgs/{org}/policies/{ref}", 404, 1),
        ("PATCH", "/v1/orgs/{org}/policies/{ref}", 200, 1),
        ("POST", "/v1/orgs/{org}/policies", 201, 1),
    ]:
        assert requests_total(text, method, route, status) - requests_total(before, method, route, status) == n
    # Raw paths never become labels: the label set stays bounded whatever clients ask.
    assert org.slug not in text and "no-such-policy" not in text
    routes = set(re.findall(r'route="([^"]*)"', text))
    assert all(r == "unmatched" or r.startswith("/") for r in routes)
    assert requests_total(text, "POST", "unmatched", 200) == 0


def test_a_metrics_token_guards_the_endpoint(container: Container) -> None:
    settings = container.settings.model_copy(update={"metrics_token": SecretStr(TOKEN)})
    guarded = dataclasses.replace(container, settings=settings)
    with TestClient(create_app(container=guarded), raise_server_exceptions=False) as client:
        for headers in [
            {},
            {"Authorization": "Bearer wrong-token"},
            {"Authorization": f"Bearer {TOKEN}x"},
            {"Authorization": f"Basic {TOKEN}"},
            {"Authorization": f"Bearer {TOKEN[:-1]}"},
        ]:
            r = client.get("/metrics", headers=headers)
            assert r.status_code == 401, (headers, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
            assert "WWW-Authenticate" in r.headers and "policyhub_http" not in r.text
        r = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert r.status_code == 200 and "policyhub_http_requests_total" in r.text
        assert client.get("/healthz").status_code == 200  # the probes stay open


def test_a_short_metrics_token_is_refused_at_start_up() -> None:
    with pytest.raises(ValidationError, match="metrics_token"):
        Settings(metrics_token="short")
