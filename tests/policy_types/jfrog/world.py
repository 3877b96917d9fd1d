"""A JFrog world in memory for evaluator tests: a template, a rule and a lifecycle policy in a snapshot."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from policyhub.domain.records import Enforcement, Policy
from policyhub.engine.engine import effect_of
from policyhub.evaluation.compiled import Evaluation
from policyhub.evaluation.inputs.lifecycle_gate import LIFECYCLE_GATE
from policyhub.evaluation.outcome import Effect, Outcome
from policyhub.evaluation.snapshot import OrgSnapshot
from policyhub.policy_types.jfrog import RULE_KIND, TEMPLATE_KIND, JFrogLifecycleType
from policyhub.policy_types.jfrog.evaluate import CompiledLifecyclePolicy
from policyhub.storage.repositories.resources import Resource
from tests.support.records import policy_record

T0 = datetime(2026, 1, 1, tzinfo=UTC)

REGO = """\
package curation.policies

import rego.v1

default allow := {"should_allow": false, "explanation": "too many vulnerabilities"}

allow := {"should_allow": true, "explanation": "within the limit"} if {
    count(input.data.vulnerabilities) <= input.params.max_vulns
}
"""

SPEC: dict[str, Any] = {
    "mode": "block",
    "action": {"type": "certify_to_gate", "stage": {"key": "production", "gate": "entry"}},
    "scope": {"type": "project", "project_keys": ["my-project"]},
    "rule_ids": ["rule-1"],
}


def resource(kind: str, rid: str, key: str, data: dict[str, Any], at: datetime = T0) -> Resource:
    return Resource(rid, "org-1", kind, key, data, at, "p-1", at, "p-1")


def template(rego: str = REGO, parameters: list[dict[str, str]] | None = None, at: datetime = T0) -> Resource:
    declared = parameters if parameters is not None else [{"name": "max_vulns", "type": "int"}]
    data = {"name": "Max vulns", "rego": rego, "parameters": declared}
    return resource(TEMPLATE_KIND, "tpl-1", "Max vulns", data, at)


def rule(values: dict[str, str] | None = None, at: datetime = T0) -> Resource:
    params = [{"name": k, "value": v} for k, v in (values if values is not None else {"max_vulns": "2"}).items()]
    return resource(RULE_KIND, "rule-1", "Two at most", {"template_id": "tpl-1", "parameters": params}, at)


def snapshot(*resources: Resource) -> OrgSnapshot:
    return OrgSnapshot("org-1", 1, [], list(resources))


def policy(spec: dict[str, Any] | None = None, **changes: Any) -> Policy:
    fields: dict[str, Any] = {
        "id": "pol-1",
        "name": "jfrog-prod-sec-12345678",
        "attributes": {"jfrog": {"name": "Prod Sec"}},
        "created_at": T0,
        "created_by": "p-1",
        "updated_at": T0,
        "updated_by": "p-1",
    }
    return policy_record(
        JFrogLifecycleType.name, copy.deepcopy(spec if spec is not None else SPEC), **{**fields, **changes}
    )


def compile_policy(snap: OrgSnapshot, spec: dict[str, Any] | None = None) -> CompiledLifecyclePolicy:
    compiled = JFrogLifecycleType().compile(policy(spec), snap)
    assert isinstance(compiled, CompiledLifecyclePolicy)
    return compiled


def gate_input(
    vulns: int = 1,
    *,
    stage: str = "production",
    gate: str = "entry",
    project: str | None = "my-project",
    key: str = "web-app",
    labels: Any = (),
    evidence: dict[str, Any] | None = None,
) -> dict[str, Any]:
    app = {
        "key": key,
        "version": "1.0.0",
        "project": project,
        "labels": list(labels) if not isinstance(labels, dict) else labels,
    }
    data = evidence if evidence is not None else {"vulnerabilities": [{"id": f"v{i}"} for i in range(vulns)]}
    return {"stage": stage, "gate": gate, "application": app, "evidence": data}


def evaluation(snap: OrgSnapshot, asked: dict[str, Any]) -> Evaluation:
    return Evaluation("lifecycle_gate", None, LIFECYCLE_GATE.parse(asked), 0.0, snap, limiter=None)  # type: ignore[arg-type]


def effect(outcome: Outcome, enforcement: Enforcement = Enforcement.ENFORCE) -> Effect:
    return effect_of(outcome, enforcement)


def later(minutes: int = 1) -> datetime:
    return T0 + timedelta(minutes=minutes)
