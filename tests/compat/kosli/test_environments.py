"""Focused tests of ``/api/v2/environments``: attachments, ``consuming_envs``, audit, and partial updates."""

from __future__ import annotations

from tests.compat.kosli.support import SEED_YAML, assert_valid, attach, create, env, policy_url
from tests.conftest import OrgClient


def envs_url(org: OrgClient, name: str = "") -> str:
    return f"/api/v2/environments/{org.slug}" + (f"/{name}" if name else "")


def test_attach_detach_keeps_consuming_envs_in_sync(org: OrgClient) -> None:
    create(org, "p1")
    create(org, "p2")
    env(org, "prod")
    env(org, "dev", "docker")
    for name in ("prod", "dev"):  # the CLI: one POST per environment, one policy each
        r = attach(org, name, "p1")
        assert r.status_code == 200, r.text
    r = attach(org, "prod", "p2")
    assert r.json()["policies"] == ["p1", "p2"]
    body = org.get(policy_url(org, "p1")).json()
    assert_valid("PolicyResponse", body)
    assert body["consuming_envs"] == ["dev", "prod"]

    r = attach(org, "prod", "p1", method="DELETE")
    assert r.status_code == 200 and r.json()["policies"] == ["p2"]
    assert org.get(policy_url(org, "p1")).json()["consuming_envs"] == ["dev"]
    assert [p["consuming_envs"] for p in org.get(policy_url(org)).json()] == [["dev"], ["prod"]]


def test_attachment_changes_are_audited_once(org: OrgClient) -> None:
    create(org, "p1")
    env(org, "prod")
    assert attach(org, "prod", "p1").status_code == 200
    assert attach(org, "prod", "p1").status_code == 200  # already attached: no change, no event
    assert attach(org, "prod", "p1", method="DELETE").status_code == 200
    assert attach(org, "prod", "p1", method="DELETE").status_code == 200  # not attached: no change
    events = org.get("events", params={"object_kind": "kosli.environment"}).json()["items"]
    assert [e["type"] for e in events] == ["created", "updated", "updated"]
    assert all(e["data"]["key"] == "prod" for e in events)
    assert events[1]["data"]["changed"] == ["policy_ids"]


def test_a_failed_attach_changes_nothing(org: OrgClient) -> None:
    create(org, "p1")
    env(org, "prod")
    r = attach(org, "prod", "p1", "ghost")
    assert r.status_code == 404
    assert org.get(envs_url(org, "prod")).json()["policies"] == []


def test_put_with_policies_replaces_and_null_keeps_them(org: OrgClient) -> None:
    create(org, "p1")
    create(org, "p2")
    assert env(org, "prod", policies=["p1"])["policies"] == ["p1"]
    assert env(org, "prod", policies=None)["policies"] == ["p1"]
    assert env(org, "prod")["policies"] == ["p1"]
    assert env(org, "prod", policies=["p2"])["policies"] == ["p2"]
    assert env(org, "prod", policies=[])["policies"] == []


def test_patch_changes_only_the_fields_present(org: OrgClient) -> None:
    create(org, "p1")
    env(org, "prod", description="cluster", include_scaling=True)
    r = org.request("PATCH", envs_url(org, "prod"), json={"policies": ["p1"]})
    assert r.status_code == 200, r.text
    assert (r.json()["description"], r.json()["include_scaling"], r.json()["policies"]) == ("cluster", True, ["p1"])
    r = org.request("PATCH", envs_url(org, "prod"), json={"include_scaling": False, "type": "ECS"})
    assert r.status_code == 400 and "type" in r.json()["errors"]


def test_logical_environment_includes_physical_ones(org: OrgClient) -> None:
    env(org, "aws", "ECS")
    env(org, "azure", "azure-apps")
    body = env(org, "prod", "logical", included_environments=["aws", "azure"])
    assert body["included_environments"] == ["aws", "azure"]
    r = org.request(
        "PUT",
        envs_url(org),
        json={"name": "all", "type": "logical", "description": "", "included_environments": ["prod"]},
    )
    assert r.status_code == 400 and "logical" in r.json()["errors"]["included_environments"]


def test_get_and_list_environments(org: OrgClient, other_org: OrgClient) -> None:
    create(org, "p1")
    env(org, "b-env", policies=["p1"])
    env(org, "a-env", "server", description="first")
    env(other_org, "theirs")
    listed = org.get(envs_url(org)).json()
    assert [e["name"] for e in listed] == ["a-env", "b-env"]  # by name, Kosli's default sort
    one = org.get(envs_url(org, "b-env")).json()
    assert one == listed[1]
    assert (one["type"], one["policies"], one["created_by"]) == ("K8S", ["p1"], "admin")
    assert org.get(envs_url(org, "theirs")).status_code == 404


def test_environment_writes_need_the_editor_role(org: OrgClient) -> None:
    create(org, "p1")
    env(org, "prod")
    viewer = org.key("viewer")
    assert org.get(envs_url(org, "prod"), token=viewer).status_code == 200
    assert attach(org, "prod", "p1", token=viewer).status_code == 403
    assert attach(org, "prod", "p1", method="DELETE", token=viewer).status_code == 403
    r = org.request("PATCH", envs_url(org, "prod"), json={"description": "x"}, token=viewer)
    assert r.status_code == 403
    editor = org.key("editor")
    assert attach(org, "prod", "p1", token=editor).status_code == 200


def test_same_name_policies_in_two_orgs_do_not_mix(org: OrgClient, other_org: OrgClient) -> None:
    create(org, "shared", SEED_YAML)
    create(other_org, "shared", SEED_YAML)
    env(other_org, "prod", policies=["shared"])
    assert org.get(policy_url(org, "shared")).json()["consuming_envs"] == []
    assert other_org.get(policy_url(other_org, "shared")).json()["consuming_envs"] == ["prod"]


def test_archiving_and_tagging_are_audited_environment_changes(org: OrgClient) -> None:
    """Tags and archiving go through ResourceService like other environment changes: one event each, none
    for a change that changes nothing (the same tags again, archiving an archived environment)."""
    env(org, "prod")
    tags = f"/api/v2/tags/{org.slug}/environment/prod"
    assert org.request("PATCH", tags, json={"set_tags": {"team": "platform"}, "remove_tags": []}).status_code == 200
    assert org.request("PATCH", tags, json={"set_tags": {"team": "platform"}, "remove_tags": []}).status_code == 200
    assert org.request("PUT", envs_url(org, "prod") + "/archive").status_code == 200
    assert org.request("PUT", envs_url(org, "prod") + "/archive").status_code == 200
    events = org.get("events", params={"object_kind": "kosli.environment"}).json()["items"]
    assert [(e["type"], e["data"].get("changed")) for e in events] == [
        ("created", None),
        ("updated", ["tags"]),
        ("updated", ["archived"]),
    ]
