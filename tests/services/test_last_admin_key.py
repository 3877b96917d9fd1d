"""The org's last active admin key at the org level cannot be revoked over the API (issue 11)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import OrgClient


def key_id(org: OrgClient, token: str) -> str:
    """The id of the key whose token is ``token`` (found by its prefix)."""
    return str(next(k["id"] for k in org.get("keys").json() if token.startswith(k["prefix"])))


def issue(org: OrgClient, role: str = "admin", *, by: str | None = None, **fields: Any) -> tuple[str, str]:
    """A key for a new principal, issued with the key ``by`` (default: the org's first key): (id, token)."""
    p = org.post("principals", json={"kind": "service_account", "display_name": f"{role} bot"}, token=by)
    r = org.post("keys", json={"principal_id": p.json()["id"], "role": role, **fields}, token=by)
    assert r.status_code == 201, r.text
    return r.json()["id"], r.json()["token"]


def test_the_last_admin_key_cannot_be_revoked(org: OrgClient) -> None:
    first = key_id(org, org.token)
    r = org.delete(f"keys/{first}")
    assert r.status_code == 409, r.text
    assert "last active admin key of the org at the org level" in r.json()["detail"]
    assert org.get(f"keys/{first}").json()["revoked_at"] is None  # and it still works


def test_the_refusal_follows_the_last_admin_key(org: OrgClient) -> None:
    first = key_id(org, org.token)
    second, second_token = issue(org)
    r = org.delete(f"keys/{first}", token=second_token)
    assert r.status_code == 200 and r.json()["revoked_at"] is not None
    assert org.delete(f"keys/{first}", token=second_token).status_code == 200  # idempotent
    r = org.delete(f"keys/{second}", token=second_token)
    assert r.status_code == 409 and "issue another admin key first" in r.json()["detail"]
    third, third_token = issue(org, by=second_token)
    assert org.delete(f"keys/{second}", token=third_token).status_code == 200
    assert org.delete(f"keys/{third}", token=third_token).status_code == 409


def test_keys_that_cannot_manage_the_org_do_not_count(org: OrgClient) -> None:
    assert org.post("scopes", json={"kind": "workspace", "key": "hr"}).status_code == 201
    first = key_id(org, org.token)
    scoped_admin, _ = issue(org, scope="hr")
    viewer, _ = issue(org, "viewer")
    assert org.delete(f"keys/{first}").status_code == 409  # a scoped admin or a viewer is no replacement
    soon = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    expiring, expiring_token = issue(org, expires_at=soon)
    assert org.delete(f"keys/{first}", token=expiring_token).status_code == 200  # active until it expires
    for other in (scoped_admin, viewer):  # neither is the last active admin key at the org level
        assert org.delete(f"keys/{other}", token=expiring_token).status_code == 200
    assert org.delete(f"keys/{expiring}", token=expiring_token).status_code == 409
