"""The assert's ``html_url`` is built from the configured public base URL, never from the Host header (issue 11)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from policyhub.http.deps import Container
from tests.compat.kosli.support import create, env
from tests.conftest import OrgClient, make_settings, new_org
from tests.own_app import own_client, own_container
from tests.policy_types.kosli.evaluate_support import FP_A

FORGED = {"Host": "evil.example", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}


def assert_url(org: OrgClient) -> str:
    create(org, "prod-policy")
    env(org, "prod", policies=["prod-policy"])
    r = org.request(
        "POST",
        f"/api/v2/asserts/{org.slug}/fingerprint/{FP_A}",
        json={"name": "x", "trails": [{"flow": {"name": "ci"}, "name": "t1", "compliant": True}]},
        params={"environment_name": "prod"},
        headers=FORGED,
    )
    assert r.status_code == 200, r.text
    assert "evil.example" not in r.text
    body = r.json()
    assert body["html_url"] == body["flows"][0]["html_url"]
    suffix = f"/v1/orgs/{org.slug}/decisions/{body['decision_id']}"
    assert body["html_url"].endswith(suffix)
    return str(body["html_url"])[: -len(suffix)]


def test_a_forged_host_header_is_not_reflected(org: OrgClient) -> None:
    assert assert_url(org) == "http://127.0.0.1:8181"  # the listen settings' defaults


@pytest.fixture(scope="module")
def public_container(database_url: str) -> Iterator[Container]:
    with own_container(make_settings(database_url, public_base_url="https://policies.example.com/hub/")) as c:
        yield c


def test_the_configured_public_base_url_is_used(public_container: Container) -> None:
    with own_client(public_container) as client:
        org = new_org(client, public_container)
        base = assert_url(org)
    assert base == "https://policies.example.com/hub"
