"""Focused tests of ``/api/v2/policies``: the seed example, history through the core API, audit fields,
verbatim YAML, size limits, tenancy and roles."""

from __future__ import annotations

import base64
from typing import Any

from fastapi.testclient import TestClient

from policyhub.http.app import create_app
from policyhub.http.deps import Container
from tests.compat.kosli.support import (
    FULL_YAML,
    SEED_YAML,
    assert_valid,
    attach,
    core_id,
    create,
    env,
    policy_url,
    put_policy,
)
from tests.conftest import OrgClient, make_settings

SEED_PAYLOAD = {
    "comment": "Initial version",
    "description": "Production environment policy",
    "name": "production-policy",
    "type": "env",
}


def test_seed_example_round_trip(org: OrgClient) -> None:
    r = put_policy(org, SEED_PAYLOAD, SEED_YAML)
    assert r.status_code == 201, r.text
    assert r.headers["content-type"].startswith("application/json")
    created = r.json()
    assert_valid("PolicyResponse", created)
    assert created["versions"][-1] == {
        "version": 1,
        "comment": "Initial version",
        "timestamp": created["created_at"],
        "created_by": "admin",
        "policy_yaml": SEED_YAML,
    }
    got = org.get(policy_url(org, "production-policy"))
    assert got.status_code == 200
    assert got.json() == created
    listed = org.get(policy_url(org)).json()
    assert listed == [created]


def test_history_shows_in_core_versions_events_and_kosli_response(org: OrgClient) -> None:
    create(org, "prod", SEED_YAML, description="first", comment="Initial version")
    editor = org.key("editor")
    r = put_policy(org, {"name": "prod", "comment": "stricter"}, FULL_YAML, token=editor)
    assert r.status_code == 200, r.text
    r = put_policy(org, {"name": "prod", "description": "second"}, token=editor)
    assert r.status_code == 200, r.text
    body = r.json()
    assert_valid("PolicyResponse", body)

    policy_id = core_id(org, "prod")
    versions = org.get(f"policies/{policy_id}/versions").json()
    assert [(v["version"], v["comment"], v["source"]) for v in versions] == [
        (1, "Initial version", SEED_YAML),
        (2, "stricter", FULL_YAML),
    ]
    events = org.get(f"policies/{policy_id}/events").json()["items"]
    assert [e["type"] for e in events] == ["creation", "new_version", "metadata_update"]

    assert body["created_by"] == "admin"
    assert [(v["version"], v["created_by"], v["policy_yaml"]) for v in body["versions"]] == [
        (1, "admin", SEED_YAML),
        (2, "editor bot", FULL_YAML),
    ]
    assert [(e["type"], e["user"]) for e in body["events"]] == [
        ("creation", "admin"),
        ("new_version", "editor bot"),
        ("metadata_update", "editor bot"),
    ]
    assert body["events"][2]["data"]["changes"]["description"] == {"before": "first", "after": "second"}
    stamps = [e["timestamp"] for e in body["events"]]
    assert stamps == sorted(stamps)
    assert body["created_at"] <= body["last_modified_at"]
    assert abs(body["last_modified_at"] - stamps[-1]) < 5


def test_yaml_is_stored_verbatim(org: OrgClient) -> None:
    text = "# owned by team X\r\n_schema:   https://kosli.com/schemas/policy/environment/v1   \r\n\r\nartifacts: {}\r\n"
    body = create(org, "verbatim", text)
    assert body["versions"][0]["policy_yaml"] == text
    assert org.get(f"policies/{core_id(org, 'verbatim')}/versions").json()[0]["source"] == text


def test_comment_only_change_to_the_file_is_a_new_version(org: OrgClient) -> None:
    create(org, "comments", SEED_YAML)
    r = put_policy(org, {"name": "comments"}, "# explained\n" + SEED_YAML)
    assert [v["version"] for v in r.json()["versions"]] == [1, 2]


def test_policy_file_must_be_utf8(org: OrgClient) -> None:
    r = put_policy(
        org, {"name": "latin1"}, "_schema: https://kosli.com/schemas/policy/v1 # caf\xe9\n".encode("latin-1")
    )
    assert r.status_code == 400
    assert "UTF-8" in r.json()["errors"]["policy_file"]


def test_file_over_10mb_is_413_in_kosli_shape_and_writes_nothing(org: OrgClient) -> None:
    big = b"# " + b"x" * (10 * 1024 * 1024) + b"\n"
    r = put_policy(org, {"name": "big"}, big)
    assert r.status_code == 413
    assert r.json() == {"message": "File size exceeds 10MB limit"}
    assert r.headers["content-type"].startswith("application/json")
    assert_valid("RequestEntityTooLargeResponseModel", r.json())
    assert org.get(policy_url(org)).json() == []


def test_chunked_upload_over_the_limit_is_413_in_kosli_shape(org: OrgClient) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        yield b'--b\r\nContent-Disposition: form-data; name="payload"\r\n\r\n{"name": "big"}\r\n'
        yield b'--b\r\nContent-Disposition: form-data; name="policy_file"; filename="p.yaml"\r\n\r\n'
        for _ in range(11):
            yield b"#" * (1024 * 1024)
        yield b"\r\n--b--\r\n"

    r = org.put(policy_url(org), content=chunks(), headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert r.status_code == 413
    assert r.json() == {"message": "File size exceeds 10MB limit"}


def test_file_limit_holds_when_the_core_allows_bigger_bodies(org: OrgClient, container: Container) -> None:
    """With a larger core body limit, the route itself refuses a file over 10 MB (same answer)."""
    app = create_app(make_settings(container.settings.database_url, max_body_bytes=32 * 1024 * 1024), container)
    client = TestClient(app, raise_server_exceptions=False)
    files = {"payload": (None, '{"name": "big"}'), "policy_file": ("p.yaml", b"#" * (10 * 1024 * 1024 + 1))}
    r = client.put(policy_url(org), files=files, headers=org.headers())
    assert r.status_code == 413
    assert r.json() == {"message": "File size exceeds 10MB limit"}


def test_yaml_up_to_kosli_s_10_mb_limit_is_accepted(org: OrgClient) -> None:
    """Kosli documents a 10 MB policy file limit; a 2 MiB file is stored verbatim."""
    yaml_text = SEED_YAML + "\n#" + "x" * (2 * 1024 * 1024) + "\n"
    r = put_policy(org, {"name": "large"}, yaml_text)
    assert r.status_code == 201, r.text
    assert r.json()["versions"][-1]["policy_yaml"] == yaml_text


def test_http_basic_with_the_key_as_password(org: OrgClient) -> None:
    create(org, "basic")
    basic = "Basic " + base64.b64encode(f":{org.token}".encode()).decode()
    r = org.client.get(policy_url(org, "basic"), headers={"Authorization": basic})
    assert r.status_code == 200


def test_another_orgs_policies_are_invisible(org: OrgClient, other_org: OrgClient) -> None:
    create(other_org, "theirs")
    assert org.get(policy_url(org, "theirs")).status_code == 404
    assert org.get(policy_url(org)).json() == []
    r = org.get(policy_url(org, "theirs", slug=other_org.slug))
    assert r.status_code == 404
    assert r.json() == {"message": f"Organization '{other_org.slug}' does not exist"}
    env(org, "prod")
    assert attach(org, "prod", "theirs").status_code == 404


def test_a_viewer_reads_but_cannot_write(org: OrgClient) -> None:
    create(org, "seen")
    viewer = org.key("viewer")
    assert org.get(policy_url(org, "seen"), token=viewer).status_code == 200
    r = put_policy(org, {"name": "seen", "description": "changed"}, token=viewer)
    assert r.status_code == 403
    assert set(r.json()) == {"message"}
    r = put_policy(org, {"name": "new-one"}, SEED_YAML, token=viewer)
    assert r.status_code == 403
    assert [p["name"] for p in org.get(policy_url(org)).json()] == ["seen"]


def test_core_fields_kosli_cannot_see_survive_a_kosli_put(org: OrgClient) -> None:
    create(org, "labelled")
    policy_id = core_id(org, "labelled")
    r = org.patch(f"policies/{policy_id}", merge={"labels": {"team": "a"}, "enforcement": "warn"})
    assert r.status_code == 200, r.text
    assert put_policy(org, {"name": "labelled"}, FULL_YAML).status_code == 200
    doc = org.get(f"policies/{policy_id}").json()
    assert (doc["labels"], doc["enforcement"], doc["version"]) == ({"team": "a"}, "warn", 2)


def test_policy_written_as_json_spec_through_v1_shows_rendered_yaml(org: OrgClient) -> None:
    spec = {
        "_schema": "https://kosli.com/schemas/policy/environment/v1",
        "artifacts": {"provenance": {"required": True}},
    }
    r = org.post("policies", json={"name": "from-v1", "type": "kosli.environment", "spec": spec})
    assert r.status_code == 201, r.text
    body = org.get(policy_url(org, "from-v1")).json()
    assert_valid("PolicyResponse", body)
    assert "required: true" in body["versions"][0]["policy_yaml"]
    r = put_policy(org, {"name": "from-v1"}, SEED_YAML)
    assert r.status_code == 200
    assert r.json()["versions"][-1]["policy_yaml"] == SEED_YAML


def test_archived_renamed_and_rolled_back_policies(org: OrgClient) -> None:
    create(org, "life", SEED_YAML)
    put_policy(org, {"name": "life"}, FULL_YAML)
    env(org, "prod", policies=["life"])
    policy_id = core_id(org, "life")

    assert org.post(f"policies/{policy_id}/rollback", json={"version": 1}).status_code == 200
    assert org.patch(f"policies/{policy_id}", merge={"name": "life2"}).status_code == 200
    assert org.get(policy_url(org, "life")).status_code == 404
    body = org.get(policy_url(org, "life2")).json()
    assert_valid("PolicyResponse", body)
    assert [e["type"] for e in body["events"]] == ["creation", "new_version", "new_version", "renaming"]
    assert body["events"][2]["data"]["restored_version"] == 1
    assert body["versions"][-1]["policy_yaml"] == SEED_YAML
    assert body["consuming_envs"] == ["prod"]
    assert org.get(f"/api/v2/environments/{org.slug}/prod").json()["policies"] == ["life2"]

    assert org.delete(f"policies/{policy_id}").status_code == 200
    archived = org.get(policy_url(org, "life2")).json()
    assert_valid("PolicyResponse", archived)
    assert archived["archived"] is True
    assert archived["events"][-1]["type"] == "archiving"
    assert archived["consuming_envs"] == []
    assert org.get(policy_url(org)).json() == []
    assert org.get(f"/api/v2/environments/{org.slug}/prod").json()["policies"] == []
    assert attach(org, "prod", "life2").status_code == 404

    assert org.post(f"policies/{policy_id}/unarchive").status_code == 200
    back = org.get(policy_url(org, "life2")).json()
    assert_valid("PolicyResponse", back)
    assert back["events"][-1]["type"] == "metadata_update"
    assert back["events"][-1]["data"]["changes"]["archived"] == {"before": True, "after": False}
    assert back["consuming_envs"] == ["prod"]


def test_put_after_archiving_creates_a_new_policy(org: OrgClient) -> None:
    create(org, "again")
    assert org.delete(f"policies/{core_id(org, 'again')}").status_code == 200
    r = put_policy(org, {"name": "again"}, FULL_YAML)
    assert r.status_code == 201
    body: dict[str, Any] = r.json()
    assert body["archived"] is False and [v["version"] for v in body["versions"]] == [1]


def test_if_match_is_passed_to_the_core(org: OrgClient) -> None:
    """Extension: the ETag of a Kosli response guards a later PUT; an org may require it (428)."""
    r = put_policy(org, {"name": "guarded"}, SEED_YAML)
    tag = r.headers["etag"]
    assert org.get(policy_url(org, "guarded")).headers["etag"] == tag
    files = {"payload": (None, '{"name": "guarded", "description": "x"}')}
    stale = org.put(policy_url(org), files=files, headers={"If-Match": '"stale"'})
    assert stale.status_code == 412 and set(stale.json()) == {"message"}
    assert org.request("PATCH", "settings", json={"require_if_match": True}).status_code == 200
    assert put_policy(org, {"name": "guarded", "description": "x"}).status_code == 428
    fresh = org.put(policy_url(org), files=files, headers={"If-Match": tag})
    assert fresh.status_code == 200 and fresh.json()["description"] == "x"
