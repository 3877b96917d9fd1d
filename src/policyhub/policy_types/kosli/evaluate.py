"""The compiled Kosli environment policy: every artifact of an environment against each rule.

Kosli's evaluation output (its ``PolicyEvaluationResponse``) is kept: per artifact, per rule, a rule
evaluation ``{rule: {type, definition}, satisfied, ignored, resolutions: [{type, context}]}`` where a
resolution says what was found in one trail: ``rule_satisfied``, ``rule_not_applicable``,
``missing_attestation``, ``non_compliant_attestation``, ``non_compliant_in_trail`` or ``no_provenance``
(Kosli's vocabulary; its ``missing_provenance`` and ``legacy_flow`` need data PolicyHub does not have).

Semantics (Kosli documents the rules, not every corner; the choices are fail-closed):

* ``provenance`` (when required): the artifact was reported in at least one trail; otherwise the
  rule is waived if an exception holds (evaluated without a flow), else ``no_provenance``.
* ``trail-compliance`` (when required): the artifact must be compliant in *every* trail it appears in;
  a trail where an exception holds (evaluated with that trail's flow) is waived. No trail at all is
  ``no_provenance`` unless an exception holds.
* each required attestation: in every trail where its ``if`` holds (no ``if``: every trail), a matching
  attestation (``*`` matches any name or type; a ``decision`` with ``for_control`` must be for that
  control) must exist and, with ``must_be_compliant`` (the default), every match must be compliant.
  An artifact with no trail is missing it, unless its ``if`` is false without a flow.

Bounds: the details grow with the product of artifacts, trails and rules (each resolution names its trail), so they
stop at about :data:`MAX_DETAILS_BYTES` (a 142 KB input against 1,000 rules once answered 133 MB): the
verdict and the reasons still cover every artifact and rule, and ``"_truncated"`` says how many rule
evaluations were left out. The decision's deadline is checked before each artifact.

Exceptions are only evaluated where the requirement is not met. A rule that is not required is not
listed. A rule is *violated* if any resolution is a violation, *ignored* (``satisfied: null``) if every
resolution is ``rule_not_applicable``, else *satisfied*. Expressions are compiled to closures once per
policy version (:mod:`.expr_compile`); one that cannot be evaluated (ordering a number against a word)
raises: "an invalid expression causes a policy evaluation error", and the engine denies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from policyhub.domain.records import Policy
from policyhub.evaluation.compiled import CompiledPolicy, Evaluation
from policyhub.evaluation.outcome import Outcome, Status
from policyhub.policy_types.kosli.expr_compile import compile_condition
from policyhub.policy_types.kosli.expressions import parse_template
from policyhub.policy_types.kosli.spec import AttestationRule, BooleanRule, EnvironmentPolicy

if TYPE_CHECKING:
    from policyhub.evaluation.inputs.environment import EnvironmentArtifact, EnvironmentAttestation, EnvironmentTrail

MAX_REASONS = 20
#: About this many bytes of rule evaluations are detailed per policy (the engine's default details cap).
MAX_DETAILS_BYTES = 16 * 1024
SATISFIED, NOT_APPLICABLE = "rule_satisfied", "rule_not_applicable"
_MEMO_KEY = "kosli.environment.subjects"

Condition = Callable[[dict[str, Any]], bool]
Resolution = dict[str, Any]
Checked = tuple[list[Resolution], list[str], bool]  # resolutions, reasons of violations, applied anywhere


@dataclass(frozen=True, slots=True)
class _Context:
    """One place an artifact was reported: expression variables, attestations by name and type, and
    where it is (a resolution's context)."""

    variables: dict[str, Any]
    trail: EnvironmentTrail | None  # None: the artifact has no provenance
    where: dict[str, Any] | None
    label: str
    by_name: dict[str, list[EnvironmentAttestation]]
    by_type: dict[str, list[EnvironmentAttestation]]


@dataclass(frozen=True, slots=True)
class _Subject:
    """One artifact, prepared once per decision and shared by every policy evaluated in it."""

    artifact: EnvironmentArtifact
    label: str
    contexts: tuple[_Context, ...]
    #: At most what one rule's resolutions of this artifact take as JSON (each names its trail).
    size: int


def _subjects(evaluation: Evaluation) -> list[_Subject]:
    found: list[_Subject] | None = evaluation.memo.get(_MEMO_KEY)
    if found is None:
        found = [_subject(a) for a in getattr(evaluation.input, "artifacts", ())]
        evaluation.memo[_MEMO_KEY] = found
    return found


def _subject(artifact: EnvironmentArtifact) -> _Subject:
    art = {"name": artifact.name, "fingerprint": artifact.fingerprint}
    contexts = tuple(_trail_context(t, art) for t in artifact.trails)
    if not contexts:
        contexts = (_Context({"flow": None, "artifact": art}, None, None, "", {}, {}),)
    size = sum(100 + len(t.flow.name) + len(t.name or "") for t in artifact.trails) or 100
    return _Subject(artifact, repr(artifact.name) if artifact.name else artifact.fingerprint, contexts, size)


def _trail_context(t: EnvironmentTrail, art: dict[str, Any]) -> _Context:
    by_name: dict[str, list[EnvironmentAttestation]] = {}
    by_type: dict[str, list[EnvironmentAttestation]] = {}
    for a in t.attestations:
        by_name.setdefault(a.name, []).append(a)
        by_type.setdefault(a.type, []).append(a)
    return _Context(
        {"flow": {"name": t.flow.name, "tags": t.flow.tags}, "artifact": art},
        t,
        {"flow_name": t.flow.name, "trail_name": t.name},
        f"{t.flow.name}/{t.name}" if t.name else t.flow.name,
        by_name,
        by_type,
    )


def _resolution(kind: str, context: dict[str, Any] | None) -> Resolution:
    return {"type": kind, "context": context}


def _conditions(rule: BooleanRule) -> tuple[Condition, ...]:
    return tuple(compile_condition(parse_template(e.if_)) for e in rule.exceptions if e.if_ is not None)


def _if_json(text: str | None) -> dict[str, Any]:
    return {} if text is None else {"if": {"text": text}}


def _boolean_json(rule: BooleanRule) -> dict[str, Any]:
    return {"required": rule.required, "exceptions": [_if_json(e.if_) for e in rule.exceptions]}


class _Rule:
    """A compiled rule: ``check`` judges one artifact in each place it was reported."""

    kind: str
    json: dict[str, Any]

    def check(self, subject: _Subject) -> Checked:
        raise NotImplementedError


class _Provenance(_Rule):
    kind = "provenance"

    def __init__(self, rule: BooleanRule) -> None:
        self.exceptions = _conditions(rule)
        self.json = {"type": self.kind, "definition": _boolean_json(rule)}

    def check(self, subject: _Subject) -> Checked:
        first = subject.contexts[0]
        if first.trail is not None:
            return [_resolution(SATISFIED, c.where) for c in subject.contexts], [], True
        if any(holds(first.variables) for holds in self.exceptions):
            return [_resolution(NOT_APPLICABLE, None)], [], False
        return [_resolution("no_provenance", None)], ["no provenance (not reported in any flow)"], True


class _TrailCompliance(_Rule):
    kind = "trail-compliance"

    def __init__(self, rule: BooleanRule) -> None:
        self.exceptions = _conditions(rule)
        self.json = {"type": self.kind, "definition": _boolean_json(rule)}

    def check(self, subject: _Subject) -> Checked:
        out: list[Resolution] = []
        reasons: list[str] = []
        applied = False
        for c in subject.contexts:
            trail = c.trail
            if trail is not None and trail.compliant:
                out.append(_resolution(SATISFIED, c.where))
                applied = True
            elif any(holds(c.variables) for holds in self.exceptions):
                out.append(_resolution(NOT_APPLICABLE, c.where))
            elif trail is None:
                out.append(_resolution("no_provenance", None))
                reasons.append("not part of any trail (no provenance)")
                applied = True
            else:
                status = "INCOMPLETE" if trail.compliant is None else "NON-COMPLIANT"
                out.append(_resolution("non_compliant_in_trail", {**(c.where or {}), "artifact_status": status}))
                unknown = " (compliance not reported)" if trail.compliant is None else ""
                reasons.append(f"not compliant in trail {c.label}{unknown}")
                applied = True
        return out, reasons, applied


class _Attestation(_Rule):
    kind = "attestation"

    def __init__(self, rule: AttestationRule) -> None:
        self.name, self.type, self.for_control = rule.name, rule.type, rule.for_control
        self.must_be_compliant = rule.must_be_compliant
        self.condition = compile_condition(parse_template(rule.if_)) if rule.if_ is not None else None
        definition: dict[str, Any] = {"name": rule.name, "type": rule.type, "must_be_compliant": rule.must_be_compliant}
        if rule.for_control is not None:
            definition["for_control"] = rule.for_control
        self.json = {"type": self.kind, "definition": {**definition, **_if_json(rule.if_)}}
        self.what = self._describe()

    def _describe(self) -> str:
        if self.type == "decision" and self.for_control is not None:
            return f"decision for control '{self.for_control}'"
        if self.name == "*":
            return f"{self.type} attestation"
        return f"attestation '{self.name}'" + ("" if self.type == "*" else f" (type {self.type})")

    def found(self, c: _Context) -> list[EnvironmentAttestation]:
        """The attestations of the place that this rule matches (``*`` is any name or any type, never both)."""
        if self.name != "*":
            candidates = c.by_name.get(self.name, [])
            if self.type != "*":
                candidates = [a for a in candidates if a.type == self.type]
        else:
            candidates = c.by_type.get(self.type, [])
        if self.for_control is not None:
            candidates = [a for a in candidates if a.for_control == self.for_control]
        return candidates

    def check(self, subject: _Subject) -> Checked:
        out: list[Resolution] = []
        reasons: list[str] = []
        applied = False
        for c in subject.contexts:
            if self.condition is not None and not self.condition(c.variables):
                out.append(_resolution(NOT_APPLICABLE, c.where))
                continue
            applied = True
            where = c.where if self.for_control is None else {**(c.where or {}), "for_control": self.for_control}
            found = self.found(c)
            place = f" in trail {c.label}" if c.trail is not None else " (no provenance)"
            if not found:
                out.append(_resolution("missing_attestation", where))
                reasons.append(f"missing {self.what}{place}")
            elif self.must_be_compliant and not all(a.compliant for a in found):
                out.append(_resolution("non_compliant_attestation", where))
                reasons.append(f"{self.what} is non-compliant{place}")
            else:
                out.append(_resolution(SATISFIED, where))
        return out, reasons, applied


class CompiledEnvironmentPolicy(CompiledPolicy):
    """A ``kosli.environment`` policy version, its expressions compiled once."""

    details_bounded = True  # about MAX_DETAILS_BYTES, plus one rule evaluation

    def __init__(self, policy: Policy) -> None:
        super().__init__(policy)
        spec = EnvironmentPolicy.model_validate(policy.spec).artifacts
        rules: list[_Rule] = []
        if spec.provenance.required:
            rules.append(_Provenance(spec.provenance))
        if spec.trail_compliance.required:
            rules.append(_TrailCompliance(spec.trail_compliance))
        rules.extend(_Attestation(r) for r in spec.attestations)
        self.rules = tuple(rules)
        self._rule_bytes = tuple(len(orjson.dumps(r.json)) + 64 for r in rules)

    def evaluate(self, evaluation: Evaluation) -> Outcome:
        subjects = _subjects(evaluation)
        artifacts: list[dict[str, Any]] = []
        reasons: list[str] = []
        violations = 0
        room_left = MAX_DETAILS_BYTES  # for rule evaluations in the details; beyond it, verdicts only
        left_out = 0
        for subject in subjects:
            evaluation.check_deadline()
            rule_evaluations: list[dict[str, Any]] = []
            compliant = True
            for rule, rule_bytes in zip(self.rules, self._rule_bytes, strict=True):
                resolutions, failures, applied = rule.check(subject)
                if failures:
                    compliant = False
                    violations += len(failures)
                    room = MAX_REASONS - len(reasons)
                    if room > 0:
                        reasons.extend(f"artifact {subject.label}: {f}" for f in failures[:room])
                if room_left <= 0:
                    left_out += 1
                    continue
                room_left -= rule_bytes + subject.size
                rule_evaluations.append(
                    {
                        "rule": rule.json,
                        "satisfied": (not failures) if applied else None,
                        "ignored": not applied,
                        "resolutions": resolutions,
                    }
                )
            if room_left <= 0 and not rule_evaluations:
                continue  # not even the artifact's name: the details are full
            artifact = subject.artifact
            room_left -= 200
            artifacts.append(
                {
                    "name": artifact.name,
                    "fingerprint": artifact.fingerprint,
                    "compliant": compliant,
                    "rule_evaluations": rule_evaluations,
                }
            )
        details: dict[str, Any] = {"status": "NON-COMPLIANT" if violations else "COMPLIANT", "artifacts": artifacts}
        if left_out:
            details["_truncated"] = (
                f"{left_out} rule evaluation(s) left out (details are kept to about {MAX_DETAILS_BYTES} bytes)"
            )
        if violations:
            if violations > len(reasons):
                reasons.append(f"... and {violations - len(reasons)} more violations")
            return Outcome(Status.VIOLATION, reasons, details=details)
        summary = f"{len(subjects)} artifact(s) comply with {len(self.rules)} rule(s)"
        return Outcome(Status.PASS, [summary], details=details)


def compile_policy(policy: Policy) -> CompiledEnvironmentPolicy:
    return CompiledEnvironmentPolicy(policy)
