"""Fixtures for the Syft Space dialect: a client speaking ``/syftspace`` for one org, endpoints, policies."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import OrgClient

PREFIX = "/syftspace"


@dataclass
class SyftSpace:
    """``org``'s view of ``/syftspace``: raw calls plus helpers that assert the happy path."""

    org: OrgClient

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
        token: str | None = None,
        **kw: Any,
    ) -> Any:
        if json is not None:
            kw["json"] = json
        return self.org.request(method, PREFIX + path, headers=headers, token=token, **kw)

    def endpoint(self, slug: str | None = None, name: str = "Docs RAG") -> dict[str, Any]:
        r = self.call("POST", "/endpoints/", json={"name": name, "slug": slug or f"ep-{uuid.uuid4().hex[:8]}"})
        assert r.status_code == 201, r.text
        return dict(r.json())

    def policy(
        self,
        endpoint_id: str,
        name: str = "Rate limit 100/min",
        policy_type: str = "rate_limit",
        configuration: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        body = {
            "name": name,
            "policy_type": policy_type,
            "configuration": configuration if configuration is not None else {"limit": "100/m"},
            "endpoint_id": endpoint_id,
        }
        r = self.call("POST", "/policies/", json=body)
        assert r.status_code == 201, r.text
        return dict(r.json())

    def patch(self, policy_id: str, body: Any, **kw: Any) -> Any:
        return self.call("PATCH", f"/policies/{policy_id}", json=body, **kw)


@pytest.fixture
def ss(org: OrgClient) -> SyftSpace:
    return SyftSpace(org)


@pytest.fixture
def other_ss(other_org: OrgClient) -> SyftSpace:
    return SyftSpace(other_org)
