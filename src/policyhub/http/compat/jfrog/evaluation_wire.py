"""Evaluations on JFrog's wire: the evaluate request, and a logged ``lifecycle_gate`` decision rendered
in the shape of JFrog's ``GET /unifiedpolicy/api/v1/evaluations/{id}``.

JFrog documents reading an evaluation, not asking for one (its evaluations are made by AppTrust when a
version is promoted). The request here is the evaluation's own ``action`` and ``resource`` (the shape
the read returns) plus ``data``, the evidence a template's Rego reads as ``input.data``.

Decisions map as: allow -> ``pass``, warn -> ``warning``, deny -> ``fail`` (``error`` when every denial
is an evaluation error). Each applicable policy is one ``decision_breakdown`` item: its rule, the rule's
parameters as ``input`` and the template's result object (plus ``decision``) as ``output``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from policyhub.errors import FieldError, InvalidInput
from policyhub.http.compat.jfrog.schemas import JFrogApplicationLabel, JFrogStage
from policyhub.http.compat.jfrog.translate import timestamp
from policyhub.storage.repositories.decisions import LoggedDecision

POINT = "lifecycle_gate"
SOURCE = "jfrog"
RESOURCE_TYPE = "application_version"
EFFECT_DECISION = {"allow": "pass", "warn": "warning", "audit": "warning", "deny": "fail"}
Key = Annotated[str, Field(min_length=1, max_length=255)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class JFrogGateAction(_In):
    type: Literal["certify_to_gate"]
    stage: JFrogStage


class JFrogResourceIdentifier(_In):
    type: Literal["application_version"]
    key: Key = Field(description="the application key")
    version: Key


class JFrogProjectRef(_In):
    key: Key


class JFrogApplicationRef(_In):
    key: Key | None = Field(default=None, description="if given, the identifier's key")
    labels: list[JFrogApplicationLabel] = Field(default_factory=list, max_length=1000)


class JFrogVersionRef(_In):
    version: Key | None = Field(default=None, description="if given, the identifier's version")


class JFrogHierarchy(_In):
    project: JFrogProjectRef | None = None
    application: JFrogApplicationRef | None = None
    application_version: JFrogVersionRef | None = None


class JFrogEvaluatedResource(_In):
    identifier: JFrogResourceIdentifier
    hierarchy: JFrogHierarchy | None = None


class JFrogEvaluationIn(_In):
    """Evaluate the lifecycle policies of a stage gate for an application version."""

    action: JFrogGateAction
    resource: JFrogEvaluatedResource
    data: dict[str, Any] = Field(default_factory=dict, description="the evidence; templates read it as input.data")


class JFrogEvaluationOut(BaseModel):
    id: str
    timestamp: str
    decision: Literal["pass", "fail", "warning", "error"]
    explanation: str
    action: dict[str, Any] | None
    resource: dict[str, Any] | None
    policies: list[dict[str, Any]]
    decision_breakdown: list[dict[str, Any]]
    context: dict[str, Any]


def gate_input(wire: JFrogEvaluationIn) -> dict[str, Any]:
    """The ``lifecycle_gate`` decision input for an evaluate request (400 naming the field if inconsistent)."""
    ident = wire.resource.identifier
    hierarchy = wire.resource.hierarchy or JFrogHierarchy()
    app = hierarchy.application or JFrogApplicationRef()
    errors = []
    if app.key is not None and app.key != ident.key:
        errors.append(FieldError("resource.hierarchy.application.key", "must equal resource.identifier.key"))
    version = hierarchy.application_version
    if version is not None and version.version is not None and version.version != ident.version:
        errors.append(
            FieldError("resource.hierarchy.application_version.version", "must equal resource.identifier.version")
        )
    if errors:
        raise InvalidInput("; ".join(f"{e.field}: {e.message}" for e in errors), errors)
    return {
        "stage": wire.action.stage.key,
        "gate": wire.action.stage.gate,
        "application": {
            "key": ident.key,
            "version": ident.version,
            "project": hierarchy.project.key if hierarchy.project else None,
            "labels": [label.model_dump() for label in app.labels],
        },
        "evidence": wire.data,
    }


#: Core input fields -> the request's fields, for the (unexpected) case that the point rejects an input.
_WIRE_FIELDS = (
    ("input.stage", "action.stage.key"),
    ("input.gate", "action.stage.gate"),
    ("input.application.project", "resource.hierarchy.project.key"),
    ("input.application.labels", "resource.hierarchy.application.labels"),
    ("input.application.version", "resource.identifier.version"),
    ("input.application.key", "resource.identifier.key"),
    ("input.evidence", "data"),
)


def wire_errors(exc: InvalidInput) -> InvalidInput:
    """The point's input errors renamed to the request's fields."""

    def rename(name: str) -> str:
        for core, wire in _WIRE_FIELDS:
            if name == core or name.startswith(core + "."):
                return wire + name[len(core) :]
        return name

    errors = [FieldError(rename(e.field), e.message) for e in exc.errors]
    return InvalidInput("; ".join(f"{e.field}: {e.message}" for e in errors) or exc.detail, errors)


def _action(asked: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": "certify_to_gate", "stage": {"key": asked.get("stage"), "gate": asked.get("gate")}}


def _resource(asked: Mapping[str, Any]) -> dict[str, Any]:
    app = asked.get("application") or {}
    hierarchy: dict[str, Any] = {}
    if app.get("project"):
        hierarchy["project"] = {"key": app["project"]}
    labels = app.get("labels") or []
    if isinstance(labels, dict):
        labels = [{"key": k, "value": v} for k, v in labels.items()]
    hierarchy["application"] = {"key": app.get("key"), "labels": labels}
    hierarchy["application_version"] = {"version": app.get("version")}
    return {"identifier": _identifier(app), "hierarchy": hierarchy}


def _identifier(app: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": RESOURCE_TYPE, "key": app.get("key"), "version": app.get("version")}


def _decision(logged: LoggedDecision) -> str:
    if logged.decision != "deny":
        return EFFECT_DECISION.get(logged.decision, "fail")
    denials = [r for r in logged.results if r.get("effect") == "deny"]
    return "error" if denials and all(r.get("error") for r in denials) else "fail"


def _result_decision(result: Mapping[str, Any]) -> str:
    if result.get("error"):
        return "error"
    return EFFECT_DECISION.get(str(result.get("effect")), "fail")


def _explanation(decision: str, shown: list[dict[str, Any]]) -> str:
    if not shown:
        return "no lifecycle policy applies to this stage gate"
    failed = [r for r in shown if r.get("effect") in ("deny", "warn", "audit")]
    listed = "; ".join(f"{_policy_name(r)}: {' '.join(r.get('reasons') or [])}" for r in failed)
    if decision != "pass":
        return listed
    if failed:  # violations of audit-only policies: recorded, not enforced
        return f"passed; recorded only: {listed}"
    return f"all {len(shown)} applicable lifecycle policies passed"


def _policy_name(result: Mapping[str, Any]) -> str:
    details = result.get("details") or {}
    return str(details.get("policy_name") or result.get("name"))


def evaluation_out(logged: LoggedDecision, user: str | None, specs: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """A logged ``lifecycle_gate`` decision in JFrog's evaluation shape.

    ``specs`` (policy id -> the spec of the version that decided) fills in the rule and mode of results
    that carry no details (evaluation errors). The action and resource come from the logged input, so
    they are null when the decision log keeps no input (``input_mode = none``).
    """
    asked = logged.input if isinstance(logged.input, dict) else None
    at = timestamp(logged.at)
    decision = _decision(logged)
    shown = [r for r in logged.results if r.get("effect") != "not_applicable"]
    identifier = _identifier(asked.get("application") or {}) if asked else None
    policies: list[dict[str, Any]] = []
    breakdown: list[dict[str, Any]] = []
    for index, result in enumerate(shown, start=1):
        details = result.get("details") or {}
        spec = specs.get(str(result.get("policy_id"))) or {}
        rule_ids = spec.get("rule_ids") or [None]
        policies.append(
            {
                "id": result.get("policy_id"),
                "name": _policy_name(result),
                "enabled": True,  # only enabled policies take part in decisions
                "mode": details.get("mode") or spec.get("mode"),
            }
        )
        output = dict(details.get("output") or {})
        output["decision"] = _result_decision(result)
        output["explanation"] = " ".join(result.get("reasons") or [])
        breakdown.append(
            {
                "id": f"{logged.id}-{index}",
                "timestamp": at,
                "rule_id": details.get("rule_id") or rule_ids[0],
                "resource": identifier,
                "input": {"params": details.get("params", {})},
                "output": output,
            }
        )
    return {
        "id": logged.id,
        "timestamp": at,
        "decision": decision,
        "explanation": _explanation(decision, shown),
        "action": _action(asked) if asked else None,
        "resource": _resource(asked) if asked else None,
        "policies": policies,
        "decision_breakdown": breakdown,
        "context": {"user": user, "timestamp": at},
    }
