"""``deploy: true``: one detail per existing target environment; an unknown environment is a 400."""

from __future__ import annotations

from typing import Any

from tests.conftest import OrgClient

from .helpers import THROTTLING, Apinizer


def deploy_meta(*envs: str) -> dict[str, Any]:
    return {"deploy": True, "deployTargetEnvironmentNameList": list(envs)}


def details(body: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    return [(d["envName"], d["podName"], d["podIp"], d["success"]) for d in body["deploymentResult"]["detailList"]]


def test_deploy_defaults_to_true(api: Apinizer) -> None:
    r = api.call(
        "POST",
        "policies/p/",
        {"operationMetadata": {"targetScope": "ALL", "targetPipeline": "REQUEST"}, "policy": THROTTLING},
    )
    assert r.status_code == 200, r.text
    assert r.json() == {
        "status": "SUCCESS",
        "deploymentResult": {
            "success": True,
            "responseTime": r.json()["deploymentResult"]["responseTime"],
            "detailList": [],
        },
    }


def test_deploy_to_existing_environments(api: Apinizer) -> None:
    r = api.add("p", **deploy_meta("production", "test", "production"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "SUCCESS"
    assert body["deploymentResult"]["success"] is True
    assert details(body) == [("production", "policyhub", "127.0.0.1", True), ("test", "policyhub", "127.0.0.1", True)]
    total = body["deploymentResult"]["responseTime"]
    assert all(0 <= d["responseTime"] <= total for d in body["deploymentResult"]["detailList"])


def test_deploy_false_has_no_result_and_ignores_the_list(api: Apinizer) -> None:
    r = api.add("p", deploy=False, deployTargetEnvironmentNameList=["staging"])
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "SUCCESS"}


def test_unknown_environment_is_rejected_before_anything_is_written(api: Apinizer) -> None:
    assert api.add("p").status_code == 200
    r = api.update("p", {**THROTTLING, "messageCountForInterval": 7}, order=1, **deploy_meta("production", "staging"))
    assert r.status_code == 400
    assert r.json()["error_description"] == "Environment (name: staging) was not found!"
    assert api.core("p")["version"] == 1
    assert api.events("p") == ["creation"]
    r = api.add("q", **deploy_meta("staging"))
    assert r.status_code == 400
    assert api.names() == ["p"]


def test_update_and_delete_deploy(api: Apinizer) -> None:
    assert api.add("p").status_code == 200
    r = api.update("p", **deploy_meta("test"))
    assert r.status_code == 200, r.text
    assert details(r.json()) == [("test", "policyhub", "127.0.0.1", True)]
    r = api.delete("p", **deploy_meta("production"))
    assert r.status_code == 200, r.text
    assert details(r.json()) == [("production", "policyhub", "127.0.0.1", True)]


def test_environments_of_another_org_are_unknown(api: Apinizer, other_org: OrgClient) -> None:
    assert other_org.post("/apiops/environments/", json={"name": "staging"}).status_code == 200
    r = api.add("p", **deploy_meta("staging"))
    assert r.status_code == 400
