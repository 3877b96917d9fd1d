"""Signing in to the console through the real app, as a browser would (its own cookie jar per user)."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import OrgClient

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


class Browser:
    """A console user: a TestClient with its own cookies, signed in with ``token``."""

    def __init__(self, org: OrgClient, token: str | None = None, base_url: str = "http://testserver") -> None:
        self.org = org
        self.client = TestClient(org.client.app, base_url=base_url, raise_server_exceptions=False)
        self.base = f"/console/orgs/{org.slug}"
        self.csrf = ""
        if token is not None:
            self.sign_in(token)

    def sign_in(self, token: str) -> Any:
        page = self.client.get("/console/sign-in")
        r = self.client.post(
            "/console/sign-in", data={"csrf": csrf_of(page.text), "api_key": token}, follow_redirects=False
        )
        assert r.status_code == 303, r.text
        self.csrf = csrf_of(self.client.get(f"{self.base}/policies").text)
        return r

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(self.url(path), follow_redirects=False, **kw)

    def post(self, path: str, data: dict[str, Any], *, csrf: bool = True, **kw: Any) -> Any:
        body = {"csrf": self.csrf, **data} if csrf else data
        return self.client.post(self.url(path), data=body, follow_redirects=False, **kw)

    def url(self, path: str) -> str:
        return path if path.startswith("/") else f"{self.base}/{path}"
