"""What the dialect's writes look like in the core: names, versions, events, permissions, isolation."""

from __future__ import annotations

from typing import Any

from tests.conftest import OrgClient

from .helpers import BASE, THROTTLING, Apinizer, core_name, setup_org


def versions(api: Apinizer, name: str) -> list[dict[str, Any]]:
    r = api.org.get(f"policies/{api.core(name)['id']}/versions")
    assert r.status_code == 200, r.text
    result: list[dict[str, Any]] = r.json()
    return result


def test_core_policy_shape(api: Apinizer) -> None:
    assert api.add("Throttling-Policy", {**THROTTLING, "name": "ignored"}).status_code == 200
    core = api.core("throttling-policy")
    assert core["name"] == "apinizer.9.5.MyProject.MyAPI.throttling-policy" == core_name("Throttling-Policy")
    assert core["type"] == "apinizer.policy-api-based-throttling"
    assert core["scope"] == "MyProject/MyAPI"
    assert core["description"] == "Throttling policy"
    assert core["enabled"] is True
    assert core["attributes"]["apinizer"]["name"] == "Throttling-Policy"
    assert "name" not in core["spec"] and "type" not in core["spec"]
    assert api.names() == ["Throttling-Policy"]


def test_versions_and_events_of_changes(api: Apinizer) -> None:
    assert api.add("p").status_code == 200
    assert api.update("p", {**THROTTLING, "messageCountForInterval": 200}).status_code == 200
    assert [v["version"] for v in versions(api, "p")] == [1, 2]
    assert versions(api, "p")[1]["spec"]["messageCountForInterval"] == 200
    assert api.events("p") == ["creation", "new_version"]

    assert api.update("p", {**THROTTLING, "messageCountForInterval": 200, "active": False}).status_code == 200
    core = api.core("p")
    assert (core["version"], core["enabled"]) == (3, False)
    assert api.events("p") == ["creation", "new_version", "metadata_update", "new_version"]


def test_identical_update_changes_nothing(api: Apinizer) -> None:
    assert api.add("p").status_code == 200
    before = api.core("p")
    r = api.update("p")
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "SUCCESS"}
    after = api.core("p")
    assert (after["revision"], after["version"]) == (before["revision"], before["version"])
    assert api.events("p") == ["creation"]


def test_update_keeps_what_was_set_through_the_core(api: Apinizer) -> None:
    assert api.add("p").status_code == 200
    merge = {"labels": {"team": "payments"}, "enforcement": "warn", "attributes": {"ops": {"ticket": "T-1"}}}
    r = api.org.patch(f"policies/{core_name('p')}", merge=merge)
    assert r.status_code == 200, r.text
    assert api.update("p", {**THROTTLING, "messageCountForInterval": 9}).status_code == 200
    core = api.core("p")
    assert core["labels"] == {"team": "payments"}
    assert core["enforcement"] == "warn"
    assert core["attributes"]["ops"] == {"ticket": "T-1"}


def test_delete_archives_and_keeps_history(api: Apinizer) -> None:
    assert api.add("p").status_code == 200
    policy_id = api.core("p")["id"]
    assert api.delete("p").status_code == 200
    r = api.org.get(f"policies/{policy_id}")
    assert r.status_code == 200 and r.json()["archived"] is True
    events = api.org.get(f"policies/{policy_id}/events").json()["items"]
    assert [e["type"] for e in events] == ["creation", "archiving"]
    assert api.names() == []


def test_editor_may_write_and_viewer_may_not(api: Apinizer, org: OrgClient) -> None:
    editor, viewer = org.key("editor"), org.key("viewer")
    assert api.add("p", token=editor).status_code == 200
    r = api.add("q", token=viewer)
    assert r.status_code == 403
    assert r.json()["error"] == "forbidden"
    assert api.call("GET", "policies/", token=viewer).status_code == 200
    assert api.names() == ["p"]


def test_scoped_keys(api: Apinizer, org: OrgClient) -> None:
    r = org.post("/apiops/projects/MyProject/apiProxies/", json={"name": "Other"})
    assert r.status_code == 200, r.text
    here = org.key("editor", scope="MyProject/MyAPI")
    there = org.key("editor", scope="MyProject/Other")
    assert api.add("p", token=here).status_code == 200
    r = api.add("q", token=there)
    assert r.status_code == 404
    assert r.json() == {"error": "not_found", "error_description": "ApiProxy (name: MyAPI) was not found!"}


def test_another_orgs_proxy_with_the_same_names_is_separate(api: Apinizer, other_org: OrgClient) -> None:
    other = setup_org(other_org)
    assert api.add("p").status_code == 200
    assert other.add("p").status_code == 200
    assert other.update("p", {**THROTTLING, "messageCountForInterval": 1}).status_code == 200
    assert api.core("p")["spec"]["messageCountForInterval"] == 100
    assert other.core("p")["id"] != api.core("p")["id"]
    r = other.call("PUT", "policies/p/", {"operationMetadata": {"targetScope": "ALL", "targetPipeline": "REQUEST"}})
    assert r.status_code == 400  # other's own proxy: the policy field is missing


def test_if_match_is_honoured(api: Apinizer, org: OrgClient) -> None:
    assert api.add("p").status_code == 200
    body = {
        "operationMetadata": {"targetScope": "ALL", "targetPipeline": "REQUEST", "deploy": False},
        "policy": THROTTLING,
    }
    stale = org.put(f"{BASE}/policies/p/", json=body, headers={"If-Match": '"nope.1"'})
    assert stale.status_code == 412
    assert stale.json()["error"] == "bad_request"
    etag = org.get(f"policies/{core_name('p')}").headers["ETag"]
    assert org.put(f"{BASE}/policies/p/", json=body, headers={"If-Match": etag}).status_code == 200


def test_damaged_placement_still_lists(api: Apinizer) -> None:
    assert api.add("a").status_code == 200
    assert api.add("b").status_code == 200
    r = api.org.patch(f"policies/{core_name('a')}", merge={"attributes": {"apinizer": None}})
    assert r.status_code == 200, r.text
    assert api.names() == ["b", "a"]
    assert api.update("b", order=2).status_code == 200
    assert api.names() == ["a", "b"]
    assert api.orders("b") == [2]


def test_oversized_body_and_encoded_slash_are_answered_in_apinizer_shape(api: Apinizer, org: OrgClient) -> None:
    limit = org.container.settings.max_body_bytes
    headers = org.headers({"Content-Type": "application/json"})
    r = org.client.put(f"{BASE}/policies/p/", headers=headers, content=b" " * (limit + 1))
    assert r.status_code == 413
    assert r.json() == {"error": "bad_request", "error_description": f"request body exceeds the limit of {limit} bytes"}
    r = org.client.get(f"{BASE}%2Fx/policies/", headers=headers)
    assert r.status_code == 400
    assert r.json()["error"] == "bad_request"
