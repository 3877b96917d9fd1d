"""A Flashback world per test: people, workspaces and repos (core scopes), keys and a few policies."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.conftest import OrgClient

SEED_UPDATE = {
    "name": "Updated PII Protection Policy",
    "content": (
        "Enhanced policy: Do not allow sharing of personally identifiable information including SSN, "
        "credit cards, addresses, phone numbers, or email addresses."
    ),
    "riskType": "HIGH",
    "actionType": 2,
}
ORIGINAL = {"name": "PII Protection Policy", "content": "Do not share PII.", "riskType": "MEDIUM", "actionType": 1}


@dataclass
class World:
    org: OrgClient
    other: OrgClient
    tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)

    def call(self, method: str, path: str, *, as_: str = "admin", body: Any = None, raw: str | None = None) -> Any:
        """A request to the Flashback API as one of the world's keys (``none``: no credentials)."""
        headers = {} if as_ == "none" else {"Authorization": f"Bearer {self.tokens[as_]}"}
        if raw is not None:
            headers["Content-Type"] = "application/json"
            return self.org.client.request(method, path, headers=headers, content=raw)
        kw = {} if body is None else {"json": body}
        return self.org.client.request(method, path, headers=headers, **kw)

    def create(self, as_: str = "admin", **fields: Any) -> dict[str, Any]:
        r = self.call("POST", "/policy", as_=as_, body={**ORIGINAL, "orgId": self.org.org_id, **fields})
        assert r.status_code == 200, r.text
        policy: dict[str, Any] = r.json()["policy"]
        return policy


def person(org: OrgClient, display_name: str, email: str | None, role: str, scope: str | None = None) -> str:
    """A user principal with a key; returns the key's token."""
    p = org.post("principals", json={"kind": "user", "display_name": display_name, "email": email})
    assert p.status_code == 201, p.text
    k = org.post("keys", json={"principal_id": p.json()["id"], "role": role, "scope": scope})
    assert k.status_code == 201, k.text
    return str(k.json()["token"])


def scope(org: OrgClient, kind: str, key: str, name: str, parent: str | None = None) -> str:
    r = org.post("scopes", json={"kind": kind, "key": key, "name": name, "parent": parent})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


@pytest.fixture
def world(org: OrgClient, other_org: OrgClient) -> World:
    w = World(org, other_org)
    w.ids.update(
        org_id=org.org_id,
        org_slug=org.slug,
        other_org_id=other_org.org_id,
        ws=scope(org, "workspace", "prod", "Production Workspace"),
        repo=scope(org, "repo", "api", "API Repo", parent="prod"),
        dev_ws=scope(org, "workspace", "dev", "Dev Workspace"),
        dev_repo=scope(org, "repo", "web", "Web Repo", parent="dev"),
        missing=str(uuid.uuid4()),
    )
    w.tokens.update(
        admin=person(org, "John Doe", "john.doe@example.com", "admin"),
        editor=person(org, "Jane Smith", "jane.smith@example.com", "editor"),
        viewer=person(org, "Vic Viewer", None, "viewer"),
        dev_editor=person(org, "Dev Editor", "dev@example.com", "editor", scope="dev"),
        other=other_org.token,
        bad="phk_not-a-real-key",
    )
    w.ids["policy"] = w.create(workspaceId=w.ids["ws"])["id"]
    w.ids["org_policy"] = w.create(name="Org Policy")["id"]
    w.ids["repo_policy"] = w.create(name="Repo Policy", workspaceId=w.ids["ws"], repoId=w.ids["repo"])["id"]
    w.ids["other_policy"] = w.call("POST", "/policy", as_="other", body={**ORIGINAL, "orgId": other_org.org_id}).json()[
        "policy"
    ]["id"]
    return w
