"""``/docs`` and ``/redoc`` work offline: every asset they load is served by the app, none from a CDN."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from policyhub.http.docs import PREFIX

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.I)
ANY_URL = re.compile(r"""https?://[^\s"'<>)]+""")


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_docs_pages_reference_no_external_url_and_their_assets_load(app_client: TestClient, path: str) -> None:
    r = app_client.get(path)
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert "img-src 'self' data:" in r.headers["content-security-policy"]  # ReDoc's bundled CDN logo never loads
    html = r.text
    assert not EXTERNAL.search(html), html
    assert ANY_URL.findall(html) == [], ANY_URL.findall(html)
    assets = re.findall(r"""(?:src|href)\s*=\s*["'](/[^"']+)["']""", html) + re.findall(r"""url:\s*'(/[^']+)'""", html)
    assert any(a.startswith(PREFIX) and a.endswith(".js") for a in assets), assets
    for asset in assets:
        got = app_client.get(asset)
        assert got.status_code == 200, asset
        assert len(got.content) > 0
    assert app_client.get("/openapi.json").status_code == 200


def test_the_openapi_document_still_lists_the_api_and_not_the_console(app_client: TestClient) -> None:
    paths = app_client.get("/openapi.json").json()["paths"]
    assert "/v1/orgs/{org}/policies" in paths
    assert not [p for p in paths if p.startswith("/console") or p in ("/", "/docs", "/redoc")]
