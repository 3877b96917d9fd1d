"""A ``jfrog.lifecycle`` policy at a lifecycle gate: does it apply, and does its rule's Rego allow?

JFrog's contract, which templates are written against:

- the template's module defines ``allow`` (in whatever package it declares, by convention
  ``curation.policies``), whose value is ``{"should_allow": bool, "explanation": string?, ...}``;
  a bare boolean (the older form in JFrog's API reference) is read as ``should_allow``;
- the Rego input is ``{"data": <the evidence>, "params": <the rule's parameter values>}``, so a template
  reads ``input.params.max_vulns``. Rule values are strings on the wire; here each is given its
  template-declared type (``int``/``float`` -> number, ``bool`` -> boolean, ``object`` -> object);
- a policy in ``block`` mode denies when ``should_allow`` is false, one in ``warning`` mode warns.

Anything else (a Rego runtime error, ``allow`` undefined, a result without a boolean ``should_allow``)
raises, and the engine denies with the reason. The template is compiled once per source text
(:data:`~.program.PROGRAMS`) and evaluated in the Rego sandbox (a worker process, within a time and
memory budget: an exceeded budget is such an error). The evaluation waits on that worker, so the policy
declares ``uses = {"sandbox"}`` and the engine runs it off the event loop.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from policyhub.domain.records import Policy
from policyhub.evaluation.compiled import CompiledPolicy, CompileError, Evaluation, Resources
from policyhub.evaluation.inputs.lifecycle_gate import LifecycleGateInput
from policyhub.evaluation.limits import DeadlineExceeded
from policyhub.evaluation.outcome import Outcome, Severity
from policyhub.policy_types.jfrog.kinds import RULE_KIND, TEMPLATE_KIND
from policyhub.policy_types.jfrog.program import PROGRAMS, RegoDeadline, RegoError, RegoProgram
from policyhub.storage.repositories.resources import Resource

SEVERITY = {"block": Severity.BLOCK, "warning": Severity.WARN}
GATED_ACTIONS = frozenset({"certify_to_gate"})


class RegoResultError(Exception):
    """The template's ``allow`` gave no usable result object."""


@dataclass(frozen=True)
class GateScope:
    """Where a policy applies: its action's stage and gate, and its scope (project, applications, labels).

    A project-scoped policy applies to every application of its project (carrying any of its
    ``application_labels``, if it has some). An application-scoped one applies to an application named
    in ``application_keys`` or carrying any of ``application_labels`` (and, when it names a project,
    only within that project).
    """

    stage: str | None
    gate: str | None
    scope_type: str
    projects: frozenset[str]
    applications: frozenset[str]
    labels: frozenset[tuple[str, str]]

    @classmethod
    def of(cls, spec: dict[str, Any]) -> GateScope:
        action = spec.get("action") or {}
        stage = action.get("stage") or {}
        gated = action.get("type") in GATED_ACTIONS
        scope = spec.get("scope") or {}
        return cls(
            stage=stage.get("key") if gated else None,
            gate=stage.get("gate") if gated else None,
            scope_type=str(scope.get("type", "")),
            projects=frozenset(scope.get("project_keys") or ()),
            applications=frozenset(scope.get("application_keys") or ()),
            labels=frozenset((lab["key"], lab["value"]) for lab in scope.get("application_labels") or ()),
        )

    def matches(self, asked: LifecycleGateInput) -> bool:
        if asked.stage != self.stage or asked.gate != self.gate:
            return False
        app = asked.application
        if self.projects and app.project not in self.projects:
            return False
        labelled = not self.labels.isdisjoint(app.label_pairs)
        if self.scope_type == "project":
            return bool(self.projects) and (not self.labels or labelled)
        return app.key in self.applications or labelled


def typed_parameters(values: list[dict[str, Any]], declared: list[dict[str, Any]]) -> dict[str, Any]:
    """A rule's ``[{name, value}]`` (string values) as ``{name: value}`` typed per the template."""
    types = {str(p.get("name")): str(p.get("type")) for p in declared if isinstance(p, dict)}
    out: dict[str, Any] = {}
    for item in values:
        name, raw = str(item.get("name")), item.get("value")
        kind = types.get(name, "string")
        if not isinstance(raw, str) or kind == "string":
            out[name] = raw
        elif kind == "bool":
            out[name] = raw == "true"
        elif kind == "int":
            out[name] = int(raw)
        elif kind == "float":
            out[name] = float(raw)
        else:  # object
            out[name] = json.loads(raw)
    return out


def read_result(result: Any, entry: str) -> tuple[bool, str, dict[str, Any]]:
    """``(should_allow, explanation, the result object)`` from the value of ``allow``; raises if unusable."""
    if isinstance(result, bool):
        return result, "", {"should_allow": result}
    if result is None:
        raise RegoResultError(f"{entry} is undefined for this input (give it a default)")
    if not isinstance(result, dict):
        raise RegoResultError(f"{entry} must be an object with a boolean should_allow, got {type(result).__name__}")
    should_allow = result.get("should_allow")
    if not isinstance(should_allow, bool):
        found = "missing" if should_allow is None else type(should_allow).__name__
        raise RegoResultError(f"{entry}.should_allow must be a boolean, got {found}")
    explanation = result.get("explanation", "")
    if not isinstance(explanation, str):
        raise RegoResultError(f"{entry}.explanation must be a string, got {type(explanation).__name__}")
    # Plain JSON already: the sandbox answers through JSON (sets as sorted arrays, keys as strings).
    return should_allow, explanation, cast(dict[str, Any], result)


@dataclass(frozen=True)
class Bound:
    """The policy's rule and template as of one snapshot: the program and the typed parameters."""

    rule_id: str
    rule_name: str
    template_id: str
    template_name: str
    template_at: datetime
    program: RegoProgram
    params: dict[str, Any]


def bind(rule_id: str, resources: Resources) -> Bound:
    """Read the rule and its template from ``resources`` and compile (raises CompileError)."""
    rule = resources.resource(RULE_KIND, rule_id)
    if rule is None:
        raise CompileError(f"rule {rule_id!r} does not exist")
    template_id = str(rule.data.get("template_id"))
    template = resources.resource(TEMPLATE_KIND, template_id)
    if template is None:
        raise CompileError(f"template {template_id!r} of rule {rule.key!r} does not exist")
    return _bound(rule, template)


def _bound(rule: Resource, template: Resource) -> Bound:
    try:
        program = PROGRAMS.get(str(template.data.get("rego", "")))
    except RegoError as exc:
        raise CompileError(f"template {template.key!r}: {exc}") from None
    try:
        params = typed_parameters(rule.data.get("parameters") or [], template.data.get("parameters") or [])
    except (ValueError, TypeError) as exc:
        raise CompileError(f"rule {rule.key!r}: a parameter value does not fit its type: {exc}") from None
    return Bound(rule.id, rule.key, template.id, template.key, template.updated_at, program, params)


class CompiledLifecyclePolicy(CompiledPolicy):
    """One lifecycle policy: the gate and scope it applies to, its mode and its bound rule."""

    uses = frozenset({"sandbox"})

    def __init__(self, policy: Policy, resources: Resources) -> None:
        super().__init__(policy)
        spec = policy.spec
        self.scope = GateScope.of(spec)
        self.mode = str(spec.get("mode", "block"))
        self.severity = SEVERITY.get(self.mode, Severity.BLOCK)
        rule_ids = spec.get("rule_ids") or []
        if len(rule_ids) != 1:
            raise CompileError(f"a lifecycle policy has exactly one rule, this one has {len(rule_ids)}")
        meta = policy.attributes.get("jfrog")
        name = meta.get("name") if isinstance(meta, dict) else None
        self.jfrog_name = name if isinstance(name, str) and name else policy.name
        self._bound = bind(str(rule_ids[0]), resources)

    def applies(self, evaluation: Evaluation) -> bool:
        return self.scope.matches(cast(LifecycleGateInput, evaluation.input))

    def evaluate(self, evaluation: Evaluation) -> Outcome:
        bound = self._current(evaluation)
        asked = cast(LifecycleGateInput, evaluation.input)
        try:
            result = bound.program.evaluate(
                {"data": asked.evidence, "params": bound.params},
                tenant=evaluation.snapshot.org_id,
                deadline=evaluation.deadline if evaluation.deadline != math.inf else None,
            )
            should_allow, explanation, output = read_result(result, bound.program.entry)
        except RegoDeadline as exc:  # the decision's deadline, not the template's budget
            raise DeadlineExceeded(str(exc)) from None
        except (RegoError, RegoResultError) as exc:
            raise RegoError(f"rule {bound.rule_name!r} (template {bound.template_name!r}): {exc}") from None
        details = {
            "policy_name": self.jfrog_name,
            "mode": self.mode,
            "rule_id": bound.rule_id,
            "rule_name": bound.rule_name,
            "template_id": bound.template_id,
            "template_name": bound.template_name,
            "params": bound.params,
            "output": output,
        }
        if should_allow:
            return Outcome.passed(explanation or f"rule {bound.rule_name!r} passed", **details)
        reason = explanation or f"rule {bound.rule_name!r} failed"
        return Outcome.violated(reason, severity=self.severity, **details)

    def _current(self, evaluation: Evaluation) -> Bound:
        """The binding for this evaluation's snapshot.

        The engine recompiles a policy when its rule changes (the rule is a declared reference), but the
        template is the rule's reference, not the policy's: a template edit is noticed here, by its
        ``updated_at``, and the policy is re-bound to the snapshot's rule and template.
        """
        bound = self._bound
        template = evaluation.snapshot.resource(TEMPLATE_KIND, bound.template_id)
        if template is not None and template.updated_at == bound.template_at:
            return bound
        bound = bind(bound.rule_id, evaluation.snapshot)
        self._bound = bound
        return bound
