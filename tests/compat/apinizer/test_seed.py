"""The seed page's examples ("Update Policy"): the full JSON body and the four cURL examples."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import OrgClient
from tests.policy_types.apinizer_data import SEED_POLICY
from tests.support.simulated_agent import SimulatedAgent, follow

from .helpers import SCRIPT, THROTTLING, Apinizer

URL = "/apiops/projects/MyProject/apiProxies/MyAPI/policies/{}/"

FULL_BODY: dict[str, Any] = {
    "operationMetadata": {
        "targetScope": "ALL",
        "targetPipeline": "REQUEST",
        "deploy": True,
        "deployTargetEnvironmentNameList": ["production"],
        "order": 2,
    },
    "policy": copy.deepcopy(SEED_POLICY),
}


def throttling(description: str, count: int) -> dict[str, Any]:
    return {**copy.deepcopy(THROTTLING), "description": description, "messageCountForInterval": count}


def put(org: OrgClient, name: str, body: dict[str, Any]) -> Any:
    return org.put(URL.format(name), json=body, headers={"Content-Type": "application/json"})


def seed_proxy(api: Apinizer) -> None:
    """throttling-policy first in ALL/REQUEST, then three more; logging-policy (a script) after them."""
    for name in ("throttling-policy", "auth-policy", "ip-policy", "size-policy"):
        assert api.add(name).status_code == 200
    assert api.add("logging-policy", SCRIPT).status_code == 200
    assert api.names() == ["throttling-policy", "auth-policy", "ip-policy", "size-policy", "logging-policy"]


@pytest.fixture
def production_agent(org: OrgClient) -> Iterator[SimulatedAgent]:
    """An agent of the production environment, following the hub (the example deploys there)."""
    (agent,) = follow(org, "production", "gateway-pod-1")
    yield agent
    agent.stop()


def assert_deployed_to_production(body: dict[str, Any], agent: SimulatedAgent) -> None:
    assert body["status"] == "SUCCESS"
    result = body["deploymentResult"]
    assert result["success"] is True and isinstance(result["responseTime"], int)
    assert result["detailList"] == [
        {
            "envName": "production",
            "podName": agent.name,
            "podIp": agent.address,
            "success": True,
            "responseTime": result["detailList"][0]["responseTime"],
        }
    ]
    assert result["detailList"][0]["responseTime"] >= 0


def test_full_json_body_example(api: Apinizer, org: OrgClient, production_agent: SimulatedAgent) -> None:
    seed_proxy(api)
    r = put(org, "throttling-policy", FULL_BODY)
    assert r.status_code == 200, r.text
    assert_deployed_to_production(r.json(), production_agent)
    assert api.names() == ["auth-policy", "throttling-policy", "ip-policy", "size-policy", "logging-policy"]
    listed = api.listing()["requestPolicyList"][1]
    assert listed == {"name": "throttling-policy", **FULL_BODY["policy"], "errorMessageList": []}


def test_example_1_update_policy_configuration(api: Apinizer, org: OrgClient, production_agent: SimulatedAgent) -> None:
    seed_proxy(api)
    body = {
        "operationMetadata": {
            "targetScope": "ALL",
            "targetPipeline": "REQUEST",
            "deploy": True,
            "deployTargetEnvironmentNameList": ["production"],
            "order": 1,
        },
        "policy": throttling("Updated throttling policy - increased limit", 200),
    }
    r = put(org, "throttling-policy", body)
    assert r.status_code == 200, r.text
    assert_deployed_to_production(r.json(), production_agent)
    assert api.names()[0] == "throttling-policy"
    core = api.core("throttling-policy")
    assert core["spec"]["messageCountForInterval"] == 200
    assert core["description"] == "Updated throttling policy - increased limit"
    assert core["version"] == 2


def test_example_2_update_policy_order(api: Apinizer, org: OrgClient) -> None:
    seed_proxy(api)
    body = {
        "operationMetadata": {"targetScope": "ALL", "targetPipeline": "REQUEST", "deploy": False, "order": 3},
        "policy": throttling("Throttling policy", 100),
    }
    r = put(org, "throttling-policy", body)
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "SUCCESS"}
    assert api.names() == ["auth-policy", "ip-policy", "throttling-policy", "size-policy", "logging-policy"]
    assert api.orders("auth-policy", "ip-policy", "throttling-policy", "size-policy", "logging-policy") == [
        1,
        2,
        3,
        4,
        5,
    ]
    assert api.core("throttling-policy")["version"] == 1  # same content: only its placement changed


def test_example_3_update_policy_scope(api: Apinizer, org: OrgClient) -> None:
    seed_proxy(api)
    body = {
        "operationMetadata": {
            "targetScope": "ENDPOINT",
            "targetEndpoint": "/api/users",
            "targetEndpointHTTPMethod": "GET",
            "targetPipeline": "REQUEST",
            "deploy": False,
            "order": 1,
        },
        "policy": throttling("Endpoint-specific throttling", 50),
    }
    r = put(org, "throttling-policy", body)
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "SUCCESS"}
    assert api.names() == ["auth-policy", "ip-policy", "size-policy", "logging-policy"]
    assert api.orders("auth-policy", "ip-policy", "size-policy", "logging-policy") == [1, 2, 3, 4]
    assert api.names(endpoint=("/api/users", "GET")) == ["throttling-policy"]
    assert api.names(endpoint=("/api/users", "POST")) == []
    placed = api.core("throttling-policy")["attributes"]["apinizer"]
    assert placed == {
        "name": "throttling-policy",
        "project": "MyProject",
        "apiProxy": "MyAPI",
        "targetScope": "ENDPOINT",
        "targetEndpoint": "/api/users",
        "targetEndpointHTTPMethod": "GET",
        "targetPipeline": "REQUEST",
        "order": 1,
    }
    assert api.core("throttling-policy")["scope"] == "MyProject/MyAPI"


def test_example_4_update_policy_pipeline(api: Apinizer, org: OrgClient) -> None:
    seed_proxy(api)
    assert api.add("response-header", SCRIPT, pipeline="RESPONSE").status_code == 200
    body = {
        "operationMetadata": {"targetScope": "ALL", "targetPipeline": "RESPONSE", "deploy": False, "order": 1},
        "policy": {
            "type": "policy-script",
            "description": "Response logging",
            "active": True,
            "scriptLanguage": "GROOVY",
            "scriptBody": "log.info('Response: ' + response.statusCode)",
        },
    }
    r = put(org, "logging-policy", body)
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "SUCCESS"}
    assert "logging-policy" not in api.names()
    assert api.names("response") == ["logging-policy", "response-header"]
    assert api.orders("logging-policy", "response-header") == [1, 2]
    listed = api.listing()["responsePolicyList"][0]
    assert listed == {"name": "logging-policy", **body["policy"], "errorMessageList": []}
