"""Apinizer test helpers: an org with project ``MyProject``, proxy ``MyAPI`` (three endpoints) and environments."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from tests.conftest import OrgClient

PROJECT, PROXY = "MyProject", "MyAPI"
BASE = f"/apiops/projects/{PROJECT}/apiProxies/{PROXY}"
ENDPOINTS = [
    {"endpoint": "/api/users", "httpMethod": "GET"},
    {"endpoint": "/api/users", "httpMethod": "POST"},
    {"endpoint": "/api/orders", "httpMethod": "ALL"},
]
ENVIRONMENTS = ("production", "test")

THROTTLING: dict[str, Any] = {
    "type": "policy-api-based-throttling",
    "description": "Throttling policy",
    "active": True,
    "targetVariableForIdentity": {"type": "HEADER", "headerName": "X-API-Key"},
    "messageCountForInterval": 100,
    "throttlingInterval": "ONE_MINUTE",
    "intervalPeriodLength": 1,
    "intervalWindowType": "FIXED",
}
SCRIPT: dict[str, Any] = {
    "type": "policy-script",
    "description": "Response logging",
    "active": True,
    "scriptLanguage": "GROOVY",
    "scriptBody": "log.info('Response: ' + response.statusCode)",
}


def meta(scope: str = "ALL", pipeline: str = "REQUEST", **extra: Any) -> dict[str, Any]:
    """An operationMetadata without deployment unless asked."""
    return {"targetScope": scope, "targetPipeline": pipeline, "deploy": False, **extra}


def envelope(policy: dict[str, Any] | None = None, **meta_fields: Any) -> dict[str, Any]:
    return {"operationMetadata": meta(**meta_fields), "policy": copy.deepcopy(policy or THROTTLING)}


def core_name(policy: str, project: str = PROJECT, proxy: str = PROXY) -> str:
    return f"apinizer.{len(project)}.{len(proxy)}.{project}.{proxy}.{policy.lower()}"


@dataclass
class Apinizer:
    """An org client speaking the Apinizer dialect against ``MyProject/MyAPI``."""

    org: OrgClient

    def call(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        url = path if path.startswith("/apiops") else f"{BASE}/{path}"
        kwargs: dict[str, Any] = {} if body is None else {"json": body}
        return self.org.request(method, url, token=token, **kwargs)

    def add(self, name: str, policy: dict[str, Any] | None = None, token: str | None = None, **meta_fields: Any) -> Any:
        return self.call("POST", f"policies/{name}/", envelope(policy, **meta_fields), token)

    def update(self, name: str, policy: dict[str, Any] | None = None, **meta_fields: Any) -> Any:
        return self.call("PUT", f"policies/{name}/", envelope(policy, **meta_fields))

    def delete(self, name: str, **meta_fields: Any) -> Any:
        return self.call("DELETE", f"policies/{name}/", {"operationMetadata": meta(**meta_fields)})

    def listing(self) -> dict[str, Any]:
        r = self.call("GET", "policies/")
        assert r.status_code == 200, r.text
        result: dict[str, Any] = r.json()["resultList"][0]
        return result

    def names(self, pipeline: str = "request", endpoint: tuple[str, str] | None = None) -> list[str]:
        """Policy names of one list, in order."""
        proxy = self.listing()
        holder = proxy
        if endpoint is not None:
            holder = next(e for e in proxy["endpointList"] if (e["endpoint"], e["httpMethod"]) == endpoint)
        return [p["name"] for p in holder[f"{pipeline}PolicyList"]]

    def core(self, name: str) -> dict[str, Any]:
        r = self.org.get(f"policies/{core_name(name)}")
        assert r.status_code == 200, r.text
        result: dict[str, Any] = r.json()
        return result

    def orders(self, *names: str) -> list[int]:
        return [self.core(n)["attributes"]["apinizer"]["order"] for n in names]

    def events(self, name: str) -> list[str]:
        r = self.org.get(f"policies/{self.core(name)['id']}/events")
        assert r.status_code == 200, r.text
        return [e["type"] for e in r.json()["items"]]


def setup_org(org: OrgClient) -> Apinizer:
    for body, path in (
        ({"name": PROJECT}, "/apiops/projects/"),
        ({"name": PROXY, "endpointList": ENDPOINTS}, f"/apiops/projects/{PROJECT}/apiProxies/"),
        *(({"name": env}, "/apiops/environments/") for env in ENVIRONMENTS),
    ):
        r = org.post(path, json=body)
        assert r.status_code == 200, r.text
    return Apinizer(org)
