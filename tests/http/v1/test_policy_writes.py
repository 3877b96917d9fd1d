"""Policy writes through the real app: create, replace/upsert, patch, preconditions, dry run, idempotency."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import OrgClient


def versions(org: OrgClient, ref: str) -> list[dict[str, Any]]:
    r = org.get(f"policies/{ref}/versions")
    assert r.status_code == 200, r.text
    return list(r.json())


def events(org: OrgClient, ref: str) -> list[str]:
    r = org.get(f"policies/{ref}/events")
    assert r.status_code == 200, r.text
    return [e["type"] for e in r.json()["items"]]


def test_create_returns_201_location_etag_and_defaults(org: OrgClient) -> None:
    r = org.post("policies", json={"name": "p1", "type": "document", "spec": {"max": 3}})
    assert r.status_code == 201, r.text
    body = r.json()
    assert r.headers["location"].endswith(f"/v1/orgs/{org.slug}/policies/{body['id']}")
    assert r.headers["etag"] == f'"{body["id"]}.1"'
    assert body | {"id": "x", "created_at": "x", "updated_at": "x", "created_by": "x", "updated_by": "x"} == {
        "id": "x",
        "name": "p1",
        "description": "",
        "type": "document",
        "scope": None,
        "spec": {"max": 3},
        "source": None,
        "enforcement": "enforce",
        "enabled": True,
        "labels": {},
        "attributes": {},
        "revision": 1,
        "version": 1,
        "created_at": "x",
        "created_by": "x",
        "updated_at": "x",
        "updated_by": "x",
        "archived": False,
        "archived_at": None,
    }
    assert org.get(f"policies/{body['id']}").json() == body
    assert org.get("policies/p1").json() == body
    assert events(org, "p1") == ["creation"]


def test_create_duplicate_name_is_409_and_writes_nothing(org: OrgClient) -> None:
    org.create_policy("dup")
    r = org.post("policies", json={"name": "dup", "type": "document", "spec": {}})
    assert r.status_code == 409
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"] == [{"field": "name", "message": "already exists"}]
    assert len(org.get("policies").json()["items"]) == 1


def test_put_upsert_creates_201_then_replaces_200_resetting_omitted_fields(org: OrgClient) -> None:
    full = {
        "type": "document",
        "spec": {"a": 1},
        "description": "d",
        "labels": {"env": "prod"},
        "enforcement": "warn",
        "enabled": False,
    }
    r1 = org.put("policies/up", json=full)
    assert r1.status_code == 201, r1.text
    assert r1.json()["labels"] == {"env": "prod"}
    r2 = org.put("policies/up", json={"spec": {"a": 1}})
    assert r2.status_code == 200, r2.text
    body = r2.json()
    assert (body["description"], body["labels"], body["enforcement"], body["enabled"]) == ("", {}, "enforce", True)
    assert body["id"] == r1.json()["id"]
    assert body["version"] == 1, "same spec: no new version"
    assert body["revision"] == 2
    assert events(org, "up") == ["creation", "metadata_update"]


def test_values_python_finds_equal_but_json_does_not_are_new_versions(org: OrgClient) -> None:
    """1, 1.0 and true compare equal in Python; as content they differ, and each is a version."""
    org.put("policies/eq", json={"type": "document", "spec": {"a": 1}}).raise_for_status()
    versions = []
    for value in (1.0, True, True, 1):
        r = org.put("policies/eq", json={"spec": {"a": value}})
        assert r.status_code == 200, r.text
        versions.append(r.json()["version"])
    assert versions == [2, 3, 3, 4]
    assert org.get("policies/eq/versions/2").json()["spec"] == {"a": 1.0}
    assert org.get("policies/eq/versions/3").json()["spec"] == {"a": True}


def test_put_create_only_with_if_none_match_star(org: OrgClient) -> None:
    body = {"type": "document", "spec": {}}
    assert org.put("policies/once", json=body, headers={"If-None-Match": "*"}).status_code == 201
    r = org.put("policies/once", json=body, headers={"If-None-Match": "*"})
    assert r.status_code == 412
    assert len(versions(org, "once")) == 1


def test_put_creating_needs_type_and_matching_name(org: OrgClient) -> None:
    r = org.put("policies/newp", json={"spec": {}})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "type"
    r = org.put("policies/newp", json={"name": "other", "type": "document", "spec": {}})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "name"
    assert org.get("policies/newp").status_code == 404


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", "00000000-0000-0000-0000-000000000000"),
        ("type", "other"),
        ("revision", 99),
        ("version", 7),
        ("created_by", "someone"),
        ("archived", True),
        ("scope", "elsewhere"),
    ],
)
def test_changing_server_owned_fields_is_400_naming_the_field(org: OrgClient, field: str, value: Any) -> None:
    created = org.create_policy("owned")
    r = org.put("policies/owned", json={"type": "document", "spec": {"n": 1}, field: value})
    assert r.status_code == 400, r.text
    assert [e["field"] for e in r.json()["errors"]] == [field]
    r = org.patch("policies/owned", merge={field: value})
    assert r.status_code == 400, r.text
    assert org.get("policies/owned").json() == created


def test_echoing_server_owned_fields_unchanged_is_accepted(org: OrgClient) -> None:
    doc = org.create_policy("echo")
    doc["description"] = "changed"
    r = org.put("policies/echo", json=doc)
    assert r.status_code == 200, r.text
    assert r.json()["description"] == "changed"


def test_unknown_fields_are_rejected(org: OrgClient) -> None:
    r = org.post("policies", json={"name": "u", "type": "document", "spec": {}, "colour": "red"})
    assert r.status_code == 400 and r.json()["errors"] == [{"field": "colour", "message": "unknown field"}]
    org.create_policy("u2")
    r = org.patch("policies/u2", merge={"colour": "red"})
    assert r.status_code == 400 and r.json()["errors"] == [{"field": "colour", "message": "unknown field"}]


def test_merge_patch_changes_spec_and_creates_a_version(org: OrgClient) -> None:
    org.create_policy("mp", {"a": 1, "b": {"c": 2, "d": 3}})
    r = org.patch("policies/mp", merge={"spec": {"b": {"c": None, "e": 5}}, "labels": {"team": "x"}})
    assert r.status_code == 200, r.text
    assert r.json()["spec"] == {"a": 1, "b": {"d": 3, "e": 5}}
    assert r.json()["labels"] == {"team": "x"}
    assert [v["version"] for v in versions(org, "mp")] == [1, 2]
    assert events(org, "mp") == ["creation", "metadata_update", "new_version"]


def test_identical_spec_creates_no_version_and_no_event(org: OrgClient) -> None:
    org.create_policy("same", {"a": 1})
    r = org.patch("policies/same", merge={"spec": {"a": 1}})
    assert r.status_code == 200
    assert r.json()["revision"] == 1
    assert len(versions(org, "same")) == 1
    assert events(org, "same") == ["creation"]


def test_metadata_only_change_creates_no_version(org: OrgClient) -> None:
    org.create_policy("meta")
    r = org.patch("policies/meta", merge={"description": "new", "enabled": False})
    assert r.status_code == 200 and r.json()["version"] == 1 and r.json()["revision"] == 2
    ev = org.get("policies/meta/events").json()["items"][-1]
    assert ev["type"] == "metadata_update"
    assert ev["data"]["changes"] == {
        "description": {"before": "", "after": "new"},
        "enabled": {"before": True, "after": False},
    }


def test_rename_records_a_renaming_event_and_frees_the_old_name(org: OrgClient) -> None:
    created = org.create_policy("old-name")
    r = org.patch("policies/old-name", merge={"name": "new-name"})
    assert r.status_code == 200, r.text
    assert org.get("policies/old-name").status_code == 404
    assert org.get("policies/new-name").json()["id"] == created["id"]
    ev = org.get(f"policies/{created['id']}/events").json()["items"][-1]
    assert (ev["type"], ev["data"]) == ("renaming", {"before": "old-name", "after": "new-name"})
    org.create_policy("taken")
    assert org.patch("policies/new-name", merge={"name": "taken"}).status_code == 409


def test_json_patch_applies_and_failing_test_writes_nothing(org: OrgClient) -> None:
    org.create_policy("jp", {"items": [1]})
    r = org.patch("policies/jp", ops=[{"op": "add", "path": "/spec/items/-", "value": 2}])
    assert r.status_code == 200 and r.json()["spec"] == {"items": [1, 2]}
    before = org.get("policies/jp").json()
    r = org.patch(
        "policies/jp",
        ops=[{"op": "add", "path": "/spec/items/-", "value": 3}, {"op": "test", "path": "/spec/items/0", "value": 99}],
    )
    assert r.status_code == 409, r.text
    assert org.get("policies/jp").json() == before
    r = org.patch("policies/jp", ops=[{"op": "remove", "path": "/spec/nope"}])
    assert r.status_code == 400
    r = org.patch("policies/jp", ops=[{"op": "replace", "path": "/revision", "value": 9}])
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "revision"
    assert org.get("policies/jp").json() == before


def test_if_match_stale_is_412_with_current_etag(org: OrgClient) -> None:
    created = org.create_policy("cas")
    tag1 = f'"{created["id"]}.1"'
    r = org.patch("policies/cas", merge={"spec": {"n": 2}}, headers={"If-Match": tag1})
    assert r.status_code == 200
    tag2 = r.headers["etag"]
    r = org.patch("policies/cas", merge={"spec": {"n": 3}}, headers={"If-Match": tag1})
    assert r.status_code == 412
    assert r.headers["etag"] == tag2
    assert org.get("policies/cas").json()["spec"] == {"n": 2}
    assert org.put("policies/cas", json={"spec": {}}, headers={"If-Match": tag1}).status_code == 412
    assert org.delete("policies/cas", headers={"If-Match": tag1}).status_code == 412
    assert org.patch("policies/cas", merge={"spec": {"n": 4}}, headers={"If-Match": f"W/{tag2}"}).status_code == 412
    assert org.patch("policies/cas", merge={"spec": {"n": 4}}, headers={"If-Match": "not-quoted"}).status_code == 400
    assert org.patch("policies/cas", merge={"spec": {"n": 4}}, headers={"If-Match": f'"x", {tag2}'}).status_code == 200


def test_org_setting_require_if_match_gives_428(org: OrgClient) -> None:
    created = org.create_policy("strict")
    assert org.request("PATCH", "settings", json={"require_if_match": True}).status_code == 200
    assert org.patch("policies/strict", merge={"description": "x"}).status_code == 428
    assert org.delete("policies/strict").status_code == 428
    ok = org.patch("policies/strict", merge={"description": "x"}, headers={"If-Match": f'"{created["id"]}.1"'})
    assert ok.status_code == 200
    assert org.put("policies/brand-new", json={"type": "document", "spec": {}}).status_code == 201


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_dry_run_answers_like_the_real_call_and_writes_nothing(org: OrgClient, method: str) -> None:
    org.create_policy("dry", {"v": 1})
    before_events = org.get("events").json()["items"]
    before = org.get("policies/dry").json()
    if method == "POST":
        r = org.post("policies?dry_run=true", json={"name": "dry2", "type": "document", "spec": {}})
        expected_status = 201
    elif method == "PUT":
        r = org.put("policies/dry?dry_run=true", json={"spec": {"v": 2}})
        expected_status = 200
    elif method == "PATCH":
        r = org.patch("policies/dry?dry_run=true", merge={"spec": {"v": 2}})
        expected_status = 200
    else:
        r = org.delete("policies/dry?dry_run=true")
        expected_status = 200
    assert r.status_code == expected_status, r.text
    assert r.json()["dry_run"] is True and r.json()["diff"]
    assert org.get("policies/dry").json() == before
    assert org.get("policies/dry2").status_code == 404
    assert org.get("events").json()["items"] == before_events


def test_dry_run_reports_validation_errors(org: OrgClient) -> None:
    r = org.post("policies?dry_run=true", json={"name": "bad name", "type": "document", "spec": {}})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "name"


def test_idempotency_key_replays_first_response(org: OrgClient) -> None:
    body = {"name": "idem", "type": "document", "spec": {"x": 1}}
    r1 = org.post("policies", json=body, headers={"Idempotency-Key": "k-1"})
    r2 = org.post("policies", json=body, headers={"Idempotency-Key": "k-1"})
    assert r1.status_code == r2.status_code == 201
    assert r1.json() == r2.json()
    assert r1.headers["etag"] == r2.headers["etag"]
    assert len(org.get("policies").json()["items"]) == 1
    r3 = org.post("policies", json={**body, "spec": {"x": 2}}, headers={"Idempotency-Key": "k-1"})
    assert r3.status_code == 422
    assert org.get("policies/idem").json()["spec"] == {"x": 1}


def test_idempotency_keys_are_per_org(org: OrgClient, other_org: OrgClient) -> None:
    body = {"name": "idem", "type": "document", "spec": {}}
    a = org.post("policies", json=body, headers={"Idempotency-Key": "shared"})
    b = other_org.post("policies", json=body, headers={"Idempotency-Key": "shared"})
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]


def test_archive_keeps_history_frees_name_and_unarchive_checks_it(org: OrgClient) -> None:
    created = org.create_policy("arch")
    r = org.delete("policies/arch")
    assert r.status_code == 200 and r.json()["archived"] is True
    assert org.get("policies").json()["items"] == []
    assert org.get(f"policies/{created['id']}").json()["archived"] is True
    assert org.patch(f"policies/{created['id']}", merge={"description": "x"}).status_code == 409, "archived, not absent"
    replacement = org.create_policy("arch")
    assert replacement["id"] != created["id"]
    assert org.post(f"policies/{created['id']}/unarchive").status_code == 409
    org.delete("policies/arch")
    r = org.post(f"policies/{created['id']}/unarchive")
    assert r.status_code == 200 and r.json()["archived"] is False
    assert events(org, created["id"]) == ["creation", "archiving", "unarchiving"]


def test_rollback_creates_a_new_version_equal_to_the_old(org: OrgClient) -> None:
    org.create_policy("rb", {"v": 1})
    org.patch("policies/rb", merge={"spec": {"v": 2}})
    r = org.post("policies/rb/rollback", json={"version": 1, "comment": "undo"})
    assert r.status_code == 200, r.text
    assert r.json()["spec"] == {"v": 1} and r.json()["version"] == 3
    vs = versions(org, "rb")
    assert [v["version"] for v in vs] == [1, 2, 3]
    assert vs[2]["content_hash"] == vs[0]["content_hash"] and vs[2]["comment"] == "undo"
    assert events(org, "rb")[-1] == "rollback"
    assert org.post("policies/rb/rollback", json={"version": 1}).status_code == 409
    assert org.post("policies/rb/rollback", json={"version": 9}).status_code == 404
    assert org.post("policies/rb/rollback", json={"version": 0}).status_code == 400


def test_diff_between_versions(org: OrgClient) -> None:
    org.create_policy("df", {"a": 1, "b": "x"})
    org.patch("policies/df", merge={"spec": {"a": 2}})
    r = org.get("policies/df/diff?from=1&to=2")
    assert r.status_code == 200
    assert r.json()["json_patch"] == [{"op": "replace", "path": "/a", "value": 2}]
    assert "-a: 1\n+a: 2\n" in r.json()["unified"]
    assert org.get("policies/df/diff?from=1&to=5").status_code == 404


def test_document_schema_validates_document_policies(org: OrgClient) -> None:
    schema = {
        "type": "object",
        "properties": {"max": {"type": "integer", "minimum": 1}},
        "required": ["max"],
        "additionalProperties": False,
    }
    assert org.put("document-schemas/limits", json=schema).status_code == 201
    ok = org.post("policies", json={"name": "d1", "type": "document", "spec": {"$schema": "limits", "max": 2}})
    assert ok.status_code == 201, ok.text
    bad = org.patch("policies/d1", merge={"spec": {"max": 0}})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "spec.max"
    missing = org.post("policies", json={"name": "d2", "type": "document", "spec": {"$schema": "nope"}})
    assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "spec.$schema"


def test_repeating_a_put_with_an_unnormalised_scope_is_accepted(org: OrgClient) -> None:
    org.post("scopes", json={"kind": "workspace", "key": "pay"})
    body = {"type": "document", "scope": "/pay/", "spec": {"a": 1}}
    first = org.put("policies/s1", json=body)
    assert first.status_code == 201 and first.json()["scope"] == "pay"
    again = org.put("policies/s1", json=body)
    assert again.status_code == 200, again.text
    assert again.headers["policyhub-changed"] == "false"
    root = {"type": "document", "scope": "", "spec": {}}
    assert org.put("policies/s2", json=root).status_code == 201
    assert org.put("policies/s2", json=root).status_code == 200


def test_encoded_slash_in_a_reference_is_refused(org: OrgClient) -> None:
    org.create_policy("enc")
    assert org.get("policies/enc%2Fversions").status_code == 400


def test_list_can_include_archived(org: OrgClient) -> None:
    org.create_policy("live")
    org.create_policy("dead")
    org.delete("policies/dead")
    assert [p["name"] for p in org.get("policies?archived=all").json()["items"]] == ["dead", "live"]


def test_a_document_schema_in_use_cannot_be_deleted(org: OrgClient) -> None:
    assert org.put("document-schemas/s", json={"type": "object"}).status_code == 201
    org.create_policy("uses-s", {"$schema": "s"})
    r = org.delete("document-schemas/s")
    assert r.status_code == 409 and "uses-s" in r.json()["detail"]
    assert org.get("document-schemas/s").status_code == 200
    org.patch("policies/uses-s", merge={"spec": {"$schema": None}})
    assert org.delete("document-schemas/s").status_code == 204
    assert org.get("document-schemas/s").status_code == 404
    viewer = org.key("viewer")
    assert org.put("document-schemas/t", json={"type": "object"}, token=viewer).status_code == 403
