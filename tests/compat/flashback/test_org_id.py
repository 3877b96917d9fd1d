"""An ``orgId`` that is not the key's own org is a 404 on every Flashback route, and changes nothing (issue 11:
``/policy/violations`` and ``/policy/alerts`` answered 200 for another org's ``orgId``)."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import World

READS = [
    "/policy/violations",
    "/policy/alerts",
    "/policy/<policy>/violations",
    "/policy/<policy>/alerts",
    "/policy/<policy>",
    "/policy",
]


def path(world: World, template: str) -> str:
    return template.replace("<policy>", world.ids["policy"])


def with_org(url: str, org_id: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}orgId={org_id}"


@pytest.mark.parametrize("template", READS)
def test_reads_name_only_the_keys_org(world: World, template: str) -> None:
    url = path(world, template)
    for foreign in (world.ids["other_org_id"], world.other.slug, "no-such-org"):
        r = world.call("GET", with_org(url, foreign))
        assert r.status_code == 404, (foreign, r.text)
        assert r.json()["success"] is False and "not found" in r.json()["message"]
    for own in (world.ids["org_id"], world.ids["org_slug"]):
        r = world.call("GET", with_org(url, own))
        assert r.status_code == 200, (own, r.text)
        assert r.json()["success"] is True


def test_the_other_org_cannot_read_our_findings_by_naming_us(world: World) -> None:
    r = world.call("GET", with_org("/policy/violations", world.ids["org_id"]), as_="other")
    assert r.status_code == 404, r.text


def _unchanged(world: World) -> dict[str, Any]:
    r = world.call("GET", f"/policy/{world.ids['policy']}")
    assert r.status_code == 200, r.text
    policy: dict[str, Any] = r.json()["policy"]
    return policy


def test_writes_naming_another_org_are_not_found_and_change_nothing(world: World) -> None:
    before = _unchanged(world)
    url = f"/policy/{world.ids['policy']}"
    other = world.ids["other_org_id"]
    assert world.call("PUT", url, body={"orgId": other, "name": "x"}).status_code == 404
    assert world.call("PUT", with_org(url, other), body={"name": "x"}).status_code == 404
    assert world.call("DELETE", with_org(url, other)).status_code == 404
    created = {"name": "n", "content": "c", "riskType": "LOW", "actionType": 0, "orgId": other}
    assert world.call("POST", "/policy", body=created).status_code == 404
    assert _unchanged(world) == before
    # Naming its own org still works (by id or slug, in the query or the body).
    r = world.call("PUT", with_org(url, world.ids["org_slug"]), body={"orgId": world.ids["org_id"], "name": "y"})
    assert r.status_code == 200 and r.json()["policy"]["name"] == "y", r.text
    assert world.call("DELETE", with_org(url, world.ids["org_id"])).status_code == 200
