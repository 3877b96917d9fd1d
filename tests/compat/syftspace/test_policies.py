"""Syft Space policies end to end: the seed's PATCH examples, the response shape, history in /v1, isolation."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from policyhub.http.compat.syftspace.translate import core_name
from tests.conftest import OrgClient

from .conftest import SyftSpace

ISO_8601 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
POLICY_KEYS = {"id", "name", "policy_type", "configuration", "endpoint_id", "created_at", "updated_at"}


def _at(text: str) -> datetime:
    assert ISO_8601.fullmatch(text), text
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _events(org: OrgClient, policy_id: str) -> list[str]:
    r = org.get(f"policies/{policy_id}/events")
    assert r.status_code == 200, r.text
    return [e["type"] for e in r.json()["items"]]


def _versions(org: OrgClient, policy_id: str) -> list[dict[str, Any]]:
    r = org.get(f"policies/{policy_id}/versions")
    assert r.status_code == 200, r.text
    return list(r.json())


def test_seed_example_patch_limit_only(ss: SyftSpace) -> None:
    """``{"configuration": {"limit": "200/m"}}`` -> the complete merged configuration, scope and applied_to kept."""
    endpoint = ss.endpoint()
    created = ss.policy(endpoint["id"], "Rate limit 100/min", configuration={"limit": "100/m"})
    assert created["configuration"] == {"limit": "100/m", "scope": "per_user", "applied_to": ["*"]}

    r = ss.patch(created["id"], {"configuration": {"limit": "200/m"}}, headers={"X-Tenant-ID": ss.org.slug})

    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == POLICY_KEYS
    assert body["configuration"] == {"limit": "200/m", "scope": "per_user", "applied_to": ["*"]}
    assert body["id"] == created["id"]
    assert body["name"] == "Rate limit 100/min"
    assert body["policy_type"] == "rate_limit"
    assert body["endpoint_id"] == endpoint["id"]
    assert body["created_at"] == created["created_at"]
    assert _at(body["updated_at"]) > _at(created["updated_at"])
    assert ss.call("GET", f"/policies/{created['id']}").json() == body


def test_seed_example_patch_name_only(ss: SyftSpace) -> None:
    """``{"name": "Rate limit 200/min"}`` renames; the configuration is untouched."""
    endpoint = ss.endpoint()
    created = ss.policy(endpoint["id"], "Rate limit", configuration={"limit": "200/m"})

    r = ss.patch(created["id"], {"name": "Rate limit 200/min"}, headers={"X-Tenant-ID": ss.org.slug})

    assert r.status_code == 200, r.text
    body = r.json()
    assert body["name"] == "Rate limit 200/min"
    assert body["configuration"] == created["configuration"]
    assert ss.call("GET", "/policies/").json()[0]["name"] == "Rate limit 200/min"
    core = ss.org.get(f"policies/{created['id']}").json()
    assert core["name"] == core_name(endpoint["id"], "Rate limit 200/min")
    assert core["attributes"] == {"syftspace": {"name": "Rate limit 200/min"}}


def test_merge_keeps_non_default_members(ss: SyftSpace) -> None:
    endpoint = ss.endpoint()
    config = {"limit": "10/s", "scope": "global", "applied_to": ["*@openmined.org", "alice@example.com"]}
    created = ss.policy(endpoint["id"], configuration=config)
    body = ss.patch(created["id"], {"configuration": {"limit": "20/s"}}).json()
    assert body["configuration"] == {**config, "limit": "20/s"}


def test_response_shape_and_timestamps(ss: SyftSpace) -> None:
    endpoint = ss.endpoint()
    created = ss.policy(endpoint["id"], "Pay per call", "accounting", {"price": 2})
    assert set(created) == POLICY_KEYS
    assert created["configuration"] == {"price": 2.0, "pricing_mode": "per_call", "applied_to": ["*"]}
    assert _at(created["created_at"]) == _at(created["updated_at"])
    core = ss.org.get(f"policies/{created['id']}").json()
    assert core["id"] == created["id"]
    assert core["type"] == "syftspace.accounting"
    assert core["spec"] == created["configuration"]
    assert core["scope"] == endpoint["slug"]
    assert _at(core["created_at"]) == _at(created["created_at"])
    item = ss.call("GET", "/policies/").json()[0]
    assert item == {k: created[k] for k in ("id", "name", "policy_type", "endpoint_id", "created_at")}


def test_history_in_v1_versions_and_events(ss: SyftSpace) -> None:
    """A new version only when the configuration changes; one event per kind of change; audit times agree."""
    endpoint = ss.endpoint()
    created = ss.policy(endpoint["id"], configuration={"limit": "100/m"})
    pid = created["id"]
    assert _events(ss.org, pid) == ["creation"]

    after_config = ss.patch(pid, {"configuration": {"limit": "200/m"}}).json()
    after_name = ss.patch(pid, {"name": "Rate limit 200/min"}).json()
    same = ss.patch(pid, {"configuration": {"limit": "200/m"}, "name": "Rate limit 200/min"}).json()

    versions = _versions(ss.org, pid)
    assert [v["version"] for v in versions] == [1, 2]
    assert [v["spec"]["limit"] for v in versions] == ["100/m", "200/m"]
    assert _events(ss.org, pid) == ["creation", "new_version", "renaming", "metadata_update"]
    assert same == after_name  # nothing changed: no event, updated_at kept
    assert _at(after_name["updated_at"]) > _at(after_config["updated_at"]) > _at(created["updated_at"])
    core = ss.org.get(f"policies/{pid}").json()
    assert _at(core["updated_at"]) == _at(after_name["updated_at"])
    assert core["version"] == 2

    assert ss.call("DELETE", f"/policies/{pid}").status_code == 200
    assert _events(ss.org, pid)[-1] == "archiving"
    assert ss.org.get(f"policies/{pid}").json()["archived"] is True


def test_conditional_writes_with_the_core_etag(ss: SyftSpace) -> None:
    """An extension: responses carry the core ETag; If-Match on PATCH/DELETE is checked by the core."""
    created = ss.call("POST", "/policies/", json=_body(ss.endpoint()["id"]))
    tag = created.headers["ETag"]
    pid = created.json()["id"]
    assert ss.call("GET", f"/policies/{pid}").headers["ETag"] == tag
    updated = ss.patch(pid, {"configuration": {"limit": "2/s"}}, headers={"If-Match": tag})
    assert updated.status_code == 200
    stale = ss.patch(pid, {"configuration": {"limit": "3/s"}}, headers={"If-Match": tag})
    assert stale.status_code == 412
    assert set(stale.json()) == {"detail"}
    assert ss.call("DELETE", f"/policies/{pid}", headers={"If-Match": tag}).status_code == 412
    assert ss.org.request("PATCH", "settings", json={"require_if_match": True}).status_code == 200
    assert ss.patch(pid, {"name": "x"}).status_code == 428
    assert ss.call("DELETE", f"/policies/{pid}", headers={"If-Match": updated.headers["ETag"]}).status_code == 200


def _body(endpoint_id: str) -> dict[str, Any]:
    return {
        "name": "Rate limit",
        "policy_type": "rate_limit",
        "configuration": {"limit": "1/s"},
        "endpoint_id": endpoint_id,
    }


def test_empty_update_writes_nothing(ss: SyftSpace) -> None:
    created = ss.policy(ss.endpoint()["id"])
    r = ss.patch(created["id"], {})
    assert r.status_code == 200
    assert r.json() == created
    assert _events(ss.org, created["id"]) == ["creation"]


def test_invalid_patch_writes_nothing(ss: SyftSpace) -> None:
    created = ss.policy(ss.endpoint()["id"])
    r = ss.patch(created["id"], {"name": "Renamed", "configuration": {"limit": "fast"}})
    assert r.status_code == 400
    assert r.json()["detail"].startswith("Invalid rate limit config: limit:")
    assert ss.call("GET", f"/policies/{created['id']}").json() == created
    assert _events(ss.org, created["id"]) == ["creation"]


def test_names_are_unique_per_endpoint_and_free_after_delete(ss: SyftSpace) -> None:
    first, second = ss.endpoint()["id"], ss.endpoint()["id"]
    a = ss.policy(first, "Rate limit 200/min")
    ss.policy(second, "Rate limit 200/min")
    ss.policy(first, "Rate limit 200 min")  # same slug, different name: no clash
    body = {"name": "Rate limit 200/min", "policy_type": "access", "configuration": {}, "endpoint_id": first}
    assert ss.call("POST", "/policies/", json=body).status_code == 409
    assert ss.call("DELETE", f"/policies/{a['id']}").status_code == 200
    assert ss.call("POST", "/policies/", json=body).status_code == 201


def test_deleted_policy_is_gone_from_the_dialect(ss: SyftSpace) -> None:
    created = ss.policy(ss.endpoint()["id"])
    r = ss.call("DELETE", f"/policies/{created['id']}")
    assert r.json() == {"message": f"Successfully deleted policy '{created['id']}'"}
    for method, body in (("GET", None), ("PATCH", {"name": "x"}), ("DELETE", None)):
        r = ss.call(method, f"/policies/{created['id']}", json=body)
        assert r.status_code == 404
        assert r.json() == {"detail": f"Policy '{created['id']}' not found"}
    assert ss.call("GET", "/policies/").json() == []


def test_other_policy_types_are_invisible(ss: SyftSpace) -> None:
    doc = ss.org.create_policy("max-replicas")
    assert ss.call("GET", f"/policies/{doc['id']}").status_code == 404
    assert ss.patch(doc["id"], {"name": "x"}).status_code == 404
    assert ss.call("GET", "/policies/").json() == []


def test_policy_written_through_v1_at_an_endpoint_scope(ss: SyftSpace) -> None:
    """Endpoints can be made with /v1 scopes; a syftspace.* policy there shows its core name until renamed."""
    scope = ss.org.post("scopes", json={"kind": "endpoint", "key": "from-v1"}).json()
    core = ss.org.create_policy("core-made", {"limit": "5/s"}, type="syftspace.rate_limit", scope="from-v1")
    shown = ss.call("GET", f"/policies/{core['id']}").json()
    assert shown["name"] == "core-made"
    assert shown["endpoint_id"] == scope["id"]
    assert shown["configuration"] == {"limit": "5/s", "scope": "per_user", "applied_to": ["*"]}
    renamed = ss.patch(core["id"], {"name": "Five per second"}).json()
    assert renamed["name"] == "Five per second"
    listed = ss.call("GET", f"/policies/?endpoint_id={scope['id']}").json()
    assert [p["id"] for p in listed] == [core["id"]]


def test_tenant_headers(ss: SyftSpace, other_ss: SyftSpace) -> None:
    created = ss.policy(ss.endpoint()["id"])
    path = f"/policies/{created['id']}"
    for headers in ({"X-Tenant-ID": ss.org.slug}, {"X-Tenant-ID": ss.org.org_id}, {"X-Tenant-Name": ss.org.slug}):
        assert ss.call("GET", path, headers=headers).status_code == 200
    for named in (other_ss.org.slug, other_ss.org.org_id, "nobody", ""):
        for header in ("X-Tenant-ID", "X-Tenant-Name"):
            r = ss.call("GET", path, headers={header: named})
            assert r.status_code == 404
            assert r.json() == {"detail": f"Tenant '{named}' not found"}
    # A header never widens access: the other org's key naming this org sees nothing.
    r = other_ss.call("GET", path, headers={"X-Tenant-ID": ss.org.slug})
    assert r.status_code == 404
    assert other_ss.call("GET", path).status_code == 404


def test_other_org_cannot_touch_policies_or_endpoints(ss: SyftSpace, other_ss: SyftSpace) -> None:
    endpoint = ss.endpoint()
    created = ss.policy(endpoint["id"])
    pid = created["id"]
    assert other_ss.call("GET", f"/policies/{pid}").status_code == 404
    assert other_ss.patch(pid, {"configuration": {"limit": "1/s"}}).status_code == 404
    assert other_ss.call("DELETE", f"/policies/{pid}").status_code == 404
    assert other_ss.call("GET", "/policies/").json() == []
    assert other_ss.call("GET", f"/endpoints/{endpoint['id']}").status_code == 404
    body = {"name": "x", "policy_type": "access", "configuration": {}, "endpoint_id": endpoint["id"]}
    assert other_ss.call("POST", "/policies/", json=body).status_code == 404
    assert ss.call("GET", f"/policies/{pid}").json() == created


def test_viewer_reads_but_cannot_write(ss: SyftSpace) -> None:
    endpoint = ss.endpoint()
    created = ss.policy(endpoint["id"])
    viewer = ss.org.key("viewer")
    assert ss.call("GET", f"/policies/{created['id']}", token=viewer).status_code == 200
    assert ss.call("GET", "/policies/", token=viewer).status_code == 200
    body = {"name": "x", "policy_type": "access", "configuration": {}, "endpoint_id": endpoint["id"]}
    writes = [
        ("POST", "/policies/", body),
        ("PATCH", f"/policies/{created['id']}", {"configuration": {"limit": "1/s"}}),
        ("DELETE", f"/policies/{created['id']}", None),
    ]
    for method, path, payload in writes:
        r = ss.call(method, path, json=payload, token=viewer)
        assert r.status_code == 403, (method, r.text)
        assert set(r.json()) == {"detail"}
    assert ss.call("GET", f"/policies/{created['id']}").json() == created


def test_editor_key_at_the_endpoint_scope(ss: SyftSpace) -> None:
    """Keys bound to an endpoint's scope write there and nowhere else."""
    mine, theirs = ss.endpoint(), ss.endpoint()
    editor = ss.org.key("editor", mine["slug"])
    body = {"name": "Scoped", "policy_type": "access", "configuration": {}, "endpoint_id": mine["id"]}
    assert ss.call("POST", "/policies/", json=body, token=editor).status_code == 201
    other = ss.policy(theirs["id"])
    r = ss.call("POST", "/policies/", json={**body, "endpoint_id": theirs["id"]}, token=editor)
    assert r.json() == {"detail": f"Endpoint '{theirs['id']}' not found"}  # outside the key's view
    assert ss.call("GET", f"/policies/{other['id']}", token=editor).status_code == 404
    assert [p["name"] for p in ss.call("GET", "/policies/", token=editor).json()] == ["Scoped"]


def test_errors_use_the_fastapi_shape(ss: SyftSpace) -> None:
    r = ss.org.client.get("/syftspace/policies/")
    assert r.status_code == 401
    assert set(r.json()) == {"detail"}
    assert "Bearer" in r.headers["WWW-Authenticate"]
    r = ss.call("POST", "/policies/types/")
    assert r.status_code == 405
    assert r.json() == {"detail": "Method Not Allowed"}


def test_routes_are_in_openapi(ss: SyftSpace) -> None:
    doc = ss.org.client.get("/openapi.json").json()
    paths = doc["paths"]
    expected = {
        "/syftspace/policies/": {"get", "post"},
        "/syftspace/policies/{policy_id}": {"get", "patch", "delete"},
        "/syftspace/policies/types/": {"get"},
        "/syftspace/policies/types/{name}": {"get"},
        "/syftspace/policies/types/{name}/schema": {"get"},
        "/syftspace/endpoints/": {"get", "post"},
        "/syftspace/endpoints/{slug}": {"get"},  # Syft Space reads one endpoint by slug
        "/syftspace/endpoints/validate-slug": {"post"},
    }
    for path, methods in expected.items():
        assert methods <= set(paths[path]), path
    patch = paths["/syftspace/policies/{policy_id}"]["patch"]
    assert patch["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/SyftSpaceUpdatePolicyRequest"
    )
    assert patch["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/SyftSpacePolicyResponse"
    )
    schemas = doc["components"]["schemas"]
    assert set(schemas["SyftSpacePolicyResponse"]["properties"]) == POLICY_KEYS
    assert set(schemas["SyftSpaceUpdatePolicyRequest"]["properties"]) == {"name", "configuration"}
