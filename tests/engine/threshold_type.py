"""A policy type for testing the engine itself: ``context[field]`` must not exceed ``max``."""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel, ConfigDict

from policyhub.domain.records import Policy
from policyhub.evaluation.compiled import CompiledPolicy, Evaluation, Resources
from policyhub.evaluation.outcome import Outcome, Severity
from policyhub.policy_types.base import ModelPolicyType
from policyhub.policy_types.registry import PolicyTypeRegistry, default_registry


class ThresholdSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str
    max: int
    severity: str = "block"
    explode: bool = False  # evaluation raises (an internal error)
    fail_open: bool = False
    uses_limiter: bool = False
    sleep_s: float = 0.0  # evaluation takes this long (a slow evaluator)
    reasons: int = 1  # a violation gives this many reasons
    reason_chars: int = 0  # each padded to this many characters
    detail_bytes: int = 0  # and details of about this many bytes


class CompiledThreshold(CompiledPolicy):
    def __init__(self, policy: Policy, spec: ThresholdSpec) -> None:
        super().__init__(policy)
        self.spec = spec
        self.fail_open = spec.fail_open
        self.evaluations = 0
        if spec.uses_limiter:
            self.uses = frozenset({"limiter"})

    def evaluate(self, evaluation: Evaluation) -> Outcome:
        self.evaluations += 1
        if self.spec.explode:
            raise RuntimeError("the evaluator broke")
        if self.spec.sleep_s:
            time.sleep(self.spec.sleep_s)
        value: Any = getattr(evaluation.input, "context", {}).get(self.spec.field)
        if value is None:
            return Outcome.not_applicable(f"no {self.spec.field}")
        if value > self.spec.max:
            spec = self.spec
            reason = f"{spec.field}={value} > {spec.max}"
            reasons = [f"{reason} ({i})".ljust(spec.reason_chars, "r") for i in range(spec.reasons)]
            if spec.reasons == 1 and not spec.reason_chars:
                reasons = [reason]
            rows = [{"i": i, "pad": "d" * 90} for i in range(spec.detail_bytes // 100)]
            details = {"rows": rows} if rows else {}
            return Outcome.violated(*reasons, severity=Severity(spec.severity), **details)
        return Outcome.passed(f"{self.spec.field}={value} <= {self.spec.max}")


class ThresholdType(ModelPolicyType):
    name = "test.threshold"
    decision_point = "http_request"
    spec_model = ThresholdSpec

    def compile(self, policy: Policy, resources: Resources) -> CompiledPolicy:
        if policy.spec.get("field") == "uncompilable":
            raise ValueError("cannot compile this")
        return CompiledThreshold(policy, ThresholdSpec.model_validate(policy.spec))


def registry_with_threshold() -> PolicyTypeRegistry:
    registry = default_registry()
    registry.register(ThresholdType())
    return registry
