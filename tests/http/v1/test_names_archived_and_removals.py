"""Writes a newcomer got wrong answers to (issue 16): a PUT whose body names another policy, writes to an
archived policy, and a merge patch removing a server-owned field."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import OrgClient


def _events(org: OrgClient, ref: str) -> list[str]:
    r = org.get(f"policies/{ref}/events")
    assert r.status_code == 200, r.text
    return [e["type"] for e in r.json()["items"]]


def _live_names(org: OrgClient) -> list[str]:
    return [p["name"] for p in org.get("policies").json()["items"]]


# -- item 5: PUT never renames -------------------------------------------------------------------------
def test_put_with_another_name_in_the_body_is_400_saying_how_to_rename(org: OrgClient) -> None:
    created = org.create_policy("gate-1")
    r = org.put("policies/gate-1", json={"name": "other", "type": "document", "spec": {"n": 2}})
    assert r.status_code == 400, r.text
    [error] = r.json()["errors"]
    assert error["field"] == "name"
    assert "PUT never renames" in error["message"]
    assert f"PATCH /v1/orgs/{org.slug}/policies/gate-1" in error["message"] and '{"name": "other"}' in error["message"]
    assert org.get("policies/gate-1").json() == created, "nothing changed"
    assert org.get("policies/other").status_code == 404
    assert _live_names(org) == ["gate-1"]
    # the next PUT to gate-1 replaces the same policy (it used to create a second one)
    r = org.put("policies/gate-1", json={"type": "document", "spec": {"n": 3}})
    assert r.status_code == 200 and r.json()["id"] == created["id"] and r.json()["version"] == 2
    assert _live_names(org) == ["gate-1"]


def test_put_without_a_name_or_with_the_same_name_still_replaces(org: OrgClient) -> None:
    created = org.create_policy("same")
    r = org.put("policies/same", json={"spec": {"n": 2}})
    assert r.status_code == 200 and r.json()["name"] == "same" and r.json()["version"] == 2
    r = org.put("policies/same", json={"name": "same", "spec": {"n": 3}})
    assert r.status_code == 200 and r.json()["id"] == created["id"] and r.json()["version"] == 3
    assert _events(org, "same") == ["creation", "new_version", "new_version"]


def test_a_dry_run_put_with_another_name_is_the_same_400(org: OrgClient) -> None:
    org.create_policy("dry")
    r = org.put("policies/dry?dry_run=true", json={"name": "moved", "spec": {"n": 1}})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "name"


def test_the_rename_the_message_names_works(org: OrgClient) -> None:
    created = org.create_policy("gate-2")
    r = org.patch("policies/gate-2", merge={"name": "other"})
    assert r.status_code == 200 and r.json()["id"] == created["id"] and r.json()["name"] == "other"
    assert _events(org, created["id"])[-1] == "renaming"


def test_put_by_id_replaces_the_whole_document_name_included(org: OrgClient) -> None:
    """By id the path names no policy name, so the body's name is the new one (JFrog's PUT by id needs it)."""
    created = org.create_policy("by-id")
    r = org.put(f"policies/{created['id']}", json={"name": "renamed-by-id", "spec": {"n": 1}})
    assert r.status_code == 200 and r.json()["name"] == "renamed-by-id"


# -- item 8: writes to an archived policy are 409 saying so -------------------------------------------
def _archived(org: OrgClient, name: str) -> dict[str, Any]:
    created = org.create_policy(name, {"n": 1})
    assert org.patch(f"policies/{name}", merge={"spec": {"n": 2}}).status_code == 200
    assert org.delete(f"policies/{name}").status_code == 200
    doc = org.get(f"policies/{created['id']}").json()
    assert doc["archived"] is True
    return dict(doc)


@pytest.mark.parametrize("by", ["name", "id"])
@pytest.mark.parametrize(
    ("method", "path", "kw"),
    [
        ("PATCH", "", {"json": {"description": "x"}, "headers": {"Content-Type": "application/merge-patch+json"}}),
        (
            "PATCH",
            "",
            {
                "json": [{"op": "replace", "path": "/description", "value": "x"}],
                "headers": {"Content-Type": "application/json-patch+json"},
            },
        ),
        ("DELETE", "", {}),
        ("POST", "/rollback", {"json": {"version": 1}}),
    ],
)
def test_writes_to_an_archived_policy_are_409_saying_how_to_restore(
    org: OrgClient, by: str, method: str, path: str, kw: dict[str, Any]
) -> None:
    doc = _archived(org, "arch")
    ref = doc["name"] if by == "name" else doc["id"]
    r = org.request(method, f"policies/{ref}{path}", **kw)
    assert r.status_code == 409, r.text
    detail = r.json()["detail"]
    assert "'arch' is archived" in detail and f"POST /v1/orgs/{org.slug}/policies/{ref}/unarchive" in detail
    assert org.get(f"policies/{doc['id']}").json() == doc, "nothing changed"
    # what the message says works, and then the write does
    assert org.post(f"policies/{ref}/unarchive").status_code == 200
    assert org.request(method, f"policies/{ref}{path}", **kw).status_code == 200


def test_put_by_id_of_an_archived_policy_is_409(org: OrgClient) -> None:
    doc = _archived(org, "arch-put")
    r = org.put(f"policies/{doc['id']}", json={"spec": {"n": 5}})
    assert r.status_code == 409 and "is archived" in r.json()["detail"]


def test_put_of_an_archived_document_echoing_its_id_is_409(org: OrgClient) -> None:
    """A document read with GET and sent back means that policy: say it is archived, create nothing."""
    doc = _archived(org, "arch-echo")
    sent = {k: v for k, v in doc.items() if k in ("id", "name", "type", "scope", "spec", "description")}
    r = org.put("policies/arch-echo", json={**sent, "spec": {"n": 9}})
    assert r.status_code == 409 and "is archived" in r.json()["detail"]
    assert _live_names(org) == []


def test_put_to_the_name_of_an_archived_policy_creates_a_new_one(org: OrgClient) -> None:
    """Archiving frees the name (POST may reuse it too), so a client that deleted a policy can create it again."""
    doc = _archived(org, "reborn")
    r = org.put("policies/reborn", json={"type": "document", "spec": {"n": 1}})
    assert r.status_code == 201 and r.json()["id"] != doc["id"] and r.json()["version"] == 1
    assert org.get(f"policies/{doc['id']}").json() == doc


def test_archived_writes_still_check_the_role_first(org: OrgClient) -> None:
    doc = _archived(org, "arch-role")
    viewer = org.key("viewer")
    assert org.patch("policies/arch-role", merge={"description": "x"}, token=viewer).status_code == 403
    assert org.get(f"policies/{doc['id']}").json() == doc


def test_another_orgs_archived_policy_is_still_404(org: OrgClient, other_org: OrgClient) -> None:
    doc = _archived(org, "theirs")
    for ref in ("theirs", doc["id"]):
        assert other_org.patch(f"policies/{ref}", merge={"description": "x"}).status_code == 404
        assert other_org.delete(f"policies/{ref}").status_code == 404
        assert other_org.post(f"policies/{ref}/rollback", json={"version": 1}).status_code == 404
    assert other_org.put(f"policies/{doc['id']}", json={"spec": {}}).status_code == 400, "an upsert, not a lookup"
    assert org.get(f"policies/{doc['id']}").json() == doc


def test_an_archived_policy_outside_a_scoped_keys_view_is_404(org: OrgClient) -> None:
    org.post("scopes", json={"kind": "workspace", "key": "a"})
    org.post("scopes", json={"kind": "workspace", "key": "b"})
    org.create_policy("in-b", scope="b")
    assert org.delete("policies/in-b").status_code == 200
    editor_a = org.key("editor", "a")
    assert org.patch("policies/in-b", merge={"description": "x"}, token=editor_a).status_code == 404


# -- item 9: removing a server-owned field is refused as setting it is --------------------------------
def test_merge_patch_scope_null_is_400_like_the_json_patch(org: OrgClient) -> None:
    org.post("scopes", json={"kind": "workspace", "key": "ws"})
    created = org.create_policy("scoped", scope="ws")
    merge = org.patch("policies/scoped", merge={"scope": None})
    json_patch = org.patch("policies/scoped", ops=[{"op": "replace", "path": "/scope", "value": None}])
    removal = org.patch("policies/scoped", ops=[{"op": "remove", "path": "/scope"}])
    for r in (merge, json_patch, removal):
        assert r.status_code == 400, r.text
        [error] = r.json()["errors"]
        assert error["field"] == "scope" and "fixed at creation" in error["message"]
    assert merge.json()["errors"] == json_patch.json()["errors"] == removal.json()["errors"]
    assert org.get("policies/scoped").json() == created


def test_removing_a_server_owned_field_that_is_null_changes_nothing(org: OrgClient) -> None:
    created = org.create_policy("org-level")
    for r in (
        org.patch("policies/org-level", merge={"scope": None, "archived_at": None}),
        org.patch("policies/org-level", ops=[{"op": "remove", "path": "/scope"}]),
    ):
        assert r.status_code == 200, r.text
    assert org.get("policies/org-level").json() == created


@pytest.mark.parametrize("field", ["id", "version", "revision", "created_at", "type"])
def test_merge_patch_removing_other_server_owned_fields_is_400(org: OrgClient, field: str) -> None:
    created = org.create_policy("owned")
    r = org.patch("policies/owned", merge={field: None})
    assert r.status_code == 400 and [e["field"] for e in r.json()["errors"]] == [field]
    assert org.get("policies/owned").json() == created
