"""Focused tests of the Flashback dialect: the seed's response shape, audit trail, levels, isolation."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import OrgClient

from .conftest import ORIGINAL, SEED_UPDATE, World

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
POLICY_KEYS = {
    "id",
    "orgId",
    "name",
    "content",
    "riskType",
    "actionType",
    "createdBy",
    "createdAt",
    "lastUpdatedBy",
    "lastUpdatedAt",
    "workspaceId",
    "repoId",
    "workspace",
    "repo",
}


def put(world: World, policy_id: str, body: dict[str, Any], as_: str = "editor") -> dict[str, Any]:
    r = world.call("PUT", f"/policy/{policy_id}", as_=as_, body=body)
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


def core(world: World, path: str) -> Any:
    r = world.org.get(path)
    assert r.status_code == 200, r.text
    return r.json()


def test_seed_update_full_response(world: World) -> None:
    pid = world.ids["policy"]
    before = world.call("GET", f"/policy/{pid}").json()["policy"]
    body = put(world, pid, SEED_UPDATE)
    assert set(body) == {"success", "policy"} and body["success"] is True
    policy = body["policy"]
    assert set(policy) == POLICY_KEYS
    assert policy == {
        **before,
        "name": SEED_UPDATE["name"],
        "content": SEED_UPDATE["content"],
        "riskType": "HIGH",
        "actionType": 2,
        "lastUpdatedBy": {
            "id": policy["lastUpdatedBy"]["id"],
            "name": "Jane",
            "lastName": "Smith",
            "email": "jane.smith@example.com",
        },
        "lastUpdatedAt": policy["lastUpdatedAt"],
    }
    assert policy["createdBy"] == {**before["createdBy"], "name": "John", "lastName": "Doe"}
    assert policy["lastUpdatedBy"]["id"] != policy["createdBy"]["id"]
    assert ISO_MS.match(policy["createdAt"]) and ISO_MS.match(policy["lastUpdatedAt"])
    assert policy["lastUpdatedAt"] >= policy["createdAt"]
    assert policy["workspace"] == {"id": world.ids["ws"], "name": "Production Workspace"} and policy["repo"] is None
    assert world.call("GET", f"/policy/{pid}").json()["policy"] == policy


def test_last_updated_by_follows_each_updater(world: World) -> None:
    pid = world.ids["policy"]
    assert put(world, pid, {"riskType": "LOW"}, as_="editor")["policy"]["lastUpdatedBy"]["name"] == "Jane"
    again = put(world, pid, {"riskType": "HIGH"}, as_="admin")["policy"]
    assert (again["lastUpdatedBy"]["name"], again["createdBy"]["name"]) == ("John", "John")


def test_versions_events_and_core_document(world: World) -> None:
    pid = world.ids["policy"]
    created = core(world, f"policies/{pid}")
    assert created["type"] == "flashback.ai" and created["scope"] == "prod"
    assert re.fullmatch(r"pii-protection-policy-[0-9a-f]{8}", created["name"])
    put(world, pid, SEED_UPDATE)
    doc = core(world, f"policies/{pid}")
    assert doc["name"] == "updated-pii-protection-policy-" + created["name"][-8:], "rename keeps the suffix"
    assert doc["attributes"] == {"flashback": {"name": SEED_UPDATE["name"]}}
    assert doc["spec"] == {k: SEED_UPDATE[k] for k in ("content", "riskType", "actionType")}
    versions = core(world, f"policies/{pid}/versions")
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[0]["spec"]["riskType"] == "MEDIUM" and versions[1]["created_by_name"] == "Jane Smith"
    events = core(world, f"policies/{pid}/events")["items"]
    assert [e["type"] for e in events] == ["creation", "renaming", "metadata_update", "new_version"]
    assert {e["actor_name"] for e in events[1:]} == {"Jane Smith"}


def test_rename_alone_is_no_new_version_and_a_repeat_changes_nothing(world: World) -> None:
    pid = world.ids["policy"]
    first = put(world, pid, {"name": "Renamed"})["policy"]
    assert len(core(world, f"policies/{pid}/versions")) == 1
    assert [e["type"] for e in core(world, f"policies/{pid}/events")["items"]][1:] == ["renaming", "metadata_update"]
    again = put(world, pid, {"name": "Renamed", "riskType": ORIGINAL["riskType"]}, as_="admin")["policy"]
    assert again == first, "an update that changes nothing records nothing"
    assert len(core(world, f"policies/{pid}/events")["items"]) == 3


def test_list_returns_exactly_the_level(world: World) -> None:
    ids = world.ids
    world.org.create_policy("plain-document", scope="prod")  # another type at the same scope: not Flashback's

    def listed(query: str, as_: str = "admin") -> list[str]:
        r = world.call("GET", f"/policy?orgId={ids['org_id']}{query}", as_=as_)
        assert r.status_code == 200, r.text
        return [p["id"] for p in r.json()["policies"]]

    assert listed("") == [ids["org_policy"]]
    assert listed(f"&workspaceId={ids['ws']}") == [ids["policy"]]
    assert listed(f"&workspaceId={ids['ws']}&repoId={ids['repo']}") == [ids["repo_policy"]]
    newer = world.create(name="Second", workspaceId=ids["ws"])["id"]
    assert listed(f"&workspaceId={ids['ws']}", as_="viewer") == [ids["policy"], newer], "oldest first"
    assert world.call("DELETE", f"/policy/{ids['policy']}").status_code == 200
    assert listed(f"&workspaceId={ids['ws']}") == [newer]
    doc_id = core(world, "policies/plain-document")["id"]
    assert world.call("GET", f"/policy/{doc_id}").status_code == 404


def test_soft_delete_keeps_history(world: World) -> None:
    pid = world.ids["repo_policy"]
    r = world.call("DELETE", f"/policy/{pid}", as_="editor")
    assert r.json() == {"success": True, "message": "Policy deleted successfully"}
    assert world.call("GET", f"/policy/{pid}").status_code == 404
    assert world.call("PUT", f"/policy/{pid}", body={"riskType": "LOW"}).status_code == 404
    assert world.call("DELETE", f"/policy/{pid}").json() == {"success": False, "message": "Policy not found"}
    doc = core(world, f"policies/{pid}")
    assert doc["archived"] is True and doc["scope"] == "prod/api"
    assert core(world, f"policies/{pid}/events")["items"][-1]["type"] == "archiving"


def test_other_org_sees_nothing(world: World, org: OrgClient) -> None:
    for method, body in (("GET", None), ("PUT", {"riskType": "LOW"}), ("DELETE", None)):
        r = world.call(method, f"/policy/{world.ids['policy']}", as_="other", body=body)
        assert r.status_code == 404 and r.json()["message"] == "Policy not found"
    assert world.call("GET", f"/policy?orgId={org.org_id}", as_="other").status_code == 404
    assert world.call("GET", f"/policy?orgId={org.slug}", as_="other").status_code == 404
    own = world.call("GET", f"/policy?orgId={world.ids['other_org_id']}", as_="other").json()["policies"]
    assert [p["id"] for p in own] == [world.ids["other_policy"]]
    assert world.call("GET", f"/policy/{world.ids['policy']}").json()["policy"]["orgId"] == org.org_id


def test_workspace_bound_editor(world: World) -> None:
    ids = world.ids
    mine = world.create(as_="dev_editor", name="Dev rule", workspaceId=ids["dev_ws"])
    assert put(world, mine["id"], {"actionType": 0}, as_="dev_editor")["policy"]["lastUpdatedBy"]["name"] == "Dev"
    assert world.call("GET", f"/policy/{ids['policy']}", as_="dev_editor").status_code == 404
    r = world.call("GET", f"/policy?orgId={ids['org_id']}&workspaceId={ids['dev_ws']}", as_="dev_editor")
    assert [p["id"] for p in r.json()["policies"]] == [mine["id"]]
    r = world.call("GET", f"/policy?orgId={ids['org_id']}&workspaceId={ids['ws']}", as_="dev_editor")
    assert r.status_code == 400, "another workspace is as unknown as a made-up id"


def test_core_names_are_valid_and_unique(world: World) -> None:
    a = world.create(name="Same Name")
    b = world.create(name="Same Name")
    name_a, name_b = (core(world, f"policies/{p['id']}")["name"] for p in (a, b))
    assert name_a != name_b and name_a[:-8] == name_b[:-8] == "same-name-"
    unicode_only = world.create(name="Политика данных")
    assert unicode_only["name"] == "Политика данных"
    assert re.fullmatch(r"policy-[0-9a-f]{8}", core(world, f"policies/{unicode_only['id']}")["name"])
    long = world.create(name="Long " * 51)
    assert len(core(world, f"policies/{long['id']}")["name"]) <= 128
    r = world.call("POST", "/policy", body={**ORIGINAL, "name": "x" * 256})
    assert r.status_code == 400 and "name" in r.json()["message"]


def test_preconditions_and_auth_headers(world: World) -> None:
    pid = world.ids["policy"]
    r = world.call("PUT", f"/policy/{pid}", as_="none", body={"riskType": "LOW"})
    assert r.status_code == 401 and "Bearer" in r.headers["WWW-Authenticate"]
    etag = world.org.get(f"policies/{pid}").headers["ETag"]
    stale = world.org.client.put(
        f"/policy/{pid}",
        headers={"Authorization": f"Bearer {world.tokens['admin']}", "If-Match": '"stale.1"'},
        json={"riskType": "LOW"},
    )
    assert stale.status_code == 412 and stale.json()["success"] is False
    fresh = world.org.client.put(
        f"/policy/{pid}",
        headers={"Authorization": f"Bearer {world.tokens['admin']}", "If-Match": etag},
        json={"riskType": "LOW"},
    )
    assert fresh.status_code == 200, fresh.text


def test_openapi_describes_the_routes(world: World) -> None:
    spec = world.org.client.get("/openapi.json").json()
    paths = spec["paths"]
    assert set(paths["/policy"]) == {"get", "post"}
    assert set(paths["/policy/{policyId}"]) == {"get", "put", "delete"}
    put_op = paths["/policy/{policyId}"]["put"]
    body_ref = put_op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body_ref.endswith("/FlashbackUpdatePolicyRequest")
    ok = put_op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ok.endswith("/FlashbackPolicyEnvelope") and "403" in put_op["responses"]
    schemas = spec["components"]["schemas"]
    assert {"FlashbackCreatePolicyRequest", "FlashbackPolicyDTO", "FlashbackErrorResponse"} <= set(schemas)
    assert schemas["FlashbackUpdatePolicyRequest"]["additionalProperties"] is False
    assert set(schemas["FlashbackPolicyEnvelope"]["properties"]) == {"success", "policy"}
    assert set(schemas["FlashbackPolicyDTO"]["properties"]) == POLICY_KEYS
    assert {p["name"] for p in paths["/policy"]["get"]["parameters"]} == {"orgId", "workspaceId", "repoId"}
