"""Fixtures for the JFrog dialect: seed bodies and a small world (template, rule, policy) per org."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import OrgClient

BASE = "/unifiedpolicy/api/v1"

REGO = """\
package curation.policies

import rego.v1

default allow := {"should_allow": false, "explanation": "too many vulnerabilities"}

allow := {"should_allow": true, "explanation": "ok"} if {
    count(input.data.vulnerabilities) <= to_number(input.params.max_vulns)
}
"""

TEMPLATE: dict[str, Any] = {
    "name": "Max vulnerabilities",
    "description": "Block when there are too many vulnerabilities",
    "version": "1.0.0",
    "category": "security",
    "data_source_type": "evidence",
    "rego": REGO,
    "parameters": [{"name": "max_vulns", "type": "int"}, {"name": "strict", "type": "bool"}],
}

# The seed's rule is "rule-12345"; ours get server ids, so the examples are run with the real one.
RULE: dict[str, Any] = {
    "name": "High+ CVEs",
    "description": "Triggers on High and Critical CVEs",
    "template_id": "<template id>",
    "parameters": [{"name": "max_vulns", "value": "3"}, {"name": "strict", "value": "true"}],
}

# The seed page's sample request (PUT /policies/policy-1001), verbatim.
SEED_PUT_BODY: dict[str, Any] = {
    "name": "Prod Sec Policy (Warnings First)",
    "description": "Warn on High+, block later",
    "enabled": True,
    "mode": "warning",
    "action": {"type": "certify_to_gate", "stage": {"key": "production", "gate": "entry"}},
    "scope": {"type": "project", "project_keys": ["my-project"]},
    "rule_ids": ["rule-12345"],
}

# The seed page's sample response, verbatim.
SEED_PUT_RESPONSE: dict[str, Any] = {
    "id": "policy-1001",
    "name": "Prod Sec Policy (Warnings First)",
    "enabled": True,
    "mode": "warning",
    "action": {"type": "certify_to_gate", "stage": {"key": "production", "gate": "entry"}},
    "scope": {"type": "project", "project_keys": ["my-project"]},
    "rule_ids": ["rule-12345"],
    "created_at": "2025-10-09T10:30:00Z",
    "created_by": "admin",
    "updated_at": "2025-10-09T11:00:00Z",
    "updated_by": "admin",
}

# JFrog's create-policy sample, with one rule (the API allows exactly one).
POLICY: dict[str, Any] = {
    "name": "Production Security Policy",
    "description": "Block promotion on Critical CVEs",
    "enabled": True,
    "mode": "block",
    "action": {"type": "certify_to_gate", "stage": {"key": "production", "gate": "entry"}},
    "scope": {"type": "project", "project_keys": ["my-project"]},
    "rule_ids": ["rule-12345"],
}


def with_rule(body: dict[str, Any], rule_id: str, **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(body)
    out["rule_ids"] = [rule_id]
    out.update(changes)
    return out


@dataclass
class JFrog:
    """An org seen through the JFrog API."""

    org: OrgClient

    def call(self, method: str, path: str, *, token: str | None = None, **kw: Any) -> Any:
        return self.org.request(method, BASE + path, token=token, **kw)

    def create(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        r = self.call("POST", path, json=body)
        assert r.status_code == 201, r.text
        result: dict[str, Any] = r.json()
        return result

    def template(self, **changes: Any) -> dict[str, Any]:
        return self.create("/templates", {**copy.deepcopy(TEMPLATE), **changes})

    def rule(self, template_id: str, **changes: Any) -> dict[str, Any]:
        return self.create("/rules", {**copy.deepcopy(RULE), "template_id": template_id, **changes})

    def policy(self, rule_id: str, **changes: Any) -> dict[str, Any]:
        return self.create("/policies", with_rule(POLICY, rule_id, **changes))


@dataclass
class World:
    jf: JFrog
    template: dict[str, Any]
    rule: dict[str, Any]
    policy: dict[str, Any]


@pytest.fixture
def jf(org: OrgClient) -> JFrog:
    return JFrog(org)


@pytest.fixture
def world(jf: JFrog) -> World:
    template = jf.template()
    rule = jf.rule(template["id"])
    policy = jf.policy(rule["id"])
    return World(jf, template, rule, policy)
