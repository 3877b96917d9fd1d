"""What evaluators return and what the engine answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """An evaluator's verdict on one input, before the policy's enforcement mode is applied."""

    PASS = "pass"  # the input satisfies the policy
    VIOLATION = "violation"  # the input breaks the policy
    NOT_APPLICABLE = "not_applicable"  # the policy does not concern this input (condition false, other target)


class Severity(StrEnum):
    """How hard a violation is meant to bite (a vendor's own levels map here, e.g. JFrog ``warning``)."""

    BLOCK = "block"
    WARN = "warn"
    LOG = "log"


class Effect(StrEnum):
    """A policy's effect on the decision, after its enforcement mode (``enforce`` / ``warn`` / ``audit``)."""

    ALLOW = "allow"
    WARN = "warn"
    DENY = "deny"
    AUDIT = "audit"  # violated, but the policy only records (does not change the decision)
    NOT_APPLICABLE = "not_applicable"


class Decision(StrEnum):
    ALLOW = "allow"
    WARN = "warn"
    DENY = "deny"


@dataclass(slots=True)
class Outcome:
    """One evaluator's answer: a status, human reasons, and what the enforcement point must do."""

    status: Status
    reasons: list[str] = field(default_factory=list)
    severity: Severity = Severity.BLOCK
    #: Instructions for the enforcement point, e.g. ``{"type": "rate_limit", "remaining": 3, ...}``.
    obligations: list[dict[str, Any]] = field(default_factory=list)
    #: Structured, type-specific detail (matched detectors, per-artifact rule results, Rego output...).
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def passed(cls, *reasons: str, **details: Any) -> Outcome:
        return cls(Status.PASS, list(reasons), details=details)

    @classmethod
    def violated(cls, *reasons: str, severity: Severity = Severity.BLOCK, **details: Any) -> Outcome:
        return cls(Status.VIOLATION, list(reasons), severity=severity, details=details)

    @classmethod
    def not_applicable(cls, *reasons: str) -> Outcome:
        return cls(Status.NOT_APPLICABLE, list(reasons))


@dataclass(slots=True)
class PolicyResult:
    """One policy's part in a decision."""

    policy_id: str
    name: str
    type: str
    version: int
    revision: int
    scope: str | None
    enforcement: str
    effect: Effect
    status: Status
    reasons: list[str]
    obligations: list[dict[str, Any]] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    error: bool = False

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "policy_id": self.policy_id,
            "name": self.name,
            "type": self.type,
            "version": self.version,
            "revision": self.revision,
            "scope": self.scope,
            "enforcement": self.enforcement,
            "effect": self.effect._value_,  # ``_value_``: a plain attribute; ``.value`` is a slow descriptor
            "status": self.status._value_,
            "reasons": self.reasons,
        }
        if self.error:
            out["error"] = True
        if self.details:
            out["details"] = self.details
        return out


@dataclass(slots=True)
class DecisionResult:
    """The engine's answer to one decision request."""

    decision: Decision
    point: str
    scope: str | None
    results: list[PolicyResult]
    obligations: list[dict[str, Any]]
    snapshot_seq: int
    id: str = ""
    input_hash: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "decision": self.decision._value_,
            "point": self.point,
            "scope": self.scope,
            "results": [r.to_json() for r in self.results],
            "obligations": self.obligations,
            "policy_state": self.snapshot_seq,
            "input_hash": self.input_hash,
        }
