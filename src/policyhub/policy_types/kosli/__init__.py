"""``kosli.environment``: the Kosli environment policy YAML (v1), authored as YAML or as JSON."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from policyhub.errors import FieldError, InvalidInput
from policyhub.policy_types.base import ModelPolicyType, NormalizedSpec, ValidationContext
from policyhub.policy_types.kosli.spec import PATTERN_BUDGET, EnvironmentPolicy
from policyhub.policy_types.kosli.yaml_source import MAX_SOURCE_BYTES, dump_yaml, load_yaml_mapping
from policyhub.sandbox.regex import PatternBudget

if TYPE_CHECKING:
    from policyhub.domain.records import Policy
    from policyhub.evaluation.compiled import CompiledPolicy, Resources

__all__ = ["MAX_SOURCE_BYTES", "EnvironmentPolicy", "KosliEnvironmentType"]


class KosliEnvironmentType(ModelPolicyType):
    """Kosli environment policy: provenance, trail compliance and required attestations."""

    name = "kosli.environment"
    title = "Kosli environment policy"
    description = (
        "A Kosli environment policy (schema v1): which artifacts running in an environment must have "
        "provenance, belong to compliant trails, and carry which attestations. Conditions use "
        "${{ ... }} expressions."
    )
    source_media_type = "application/yaml"
    spec_model = EnvironmentPolicy
    decision_point = "environment"

    def normalize(self, spec: Any, ctx: ValidationContext) -> NormalizedSpec:
        """The model's validation, with one budget for all the policy's ``matches()`` patterns."""
        token = PATTERN_BUDGET.set(PatternBudget())
        try:
            return super().normalize(spec, ctx)
        finally:
            PATTERN_BUDGET.reset(token)

    def parse_source(self, source: str, ctx: ValidationContext) -> NormalizedSpec:
        data = load_yaml_mapping(source)
        normalized = self.normalize(data, ctx)
        return NormalizedSpec(spec=normalized.spec, source=source, references=normalized.references)

    def render_source(self, spec: dict[str, Any]) -> str | None:
        return dump_yaml(spec)

    def compile(self, policy: Policy, resources: Resources) -> CompiledPolicy:
        """Every rule's expressions parsed once (see :mod:`.evaluate` for the evaluation's semantics)."""
        from policyhub.policy_types.kosli.evaluate import compile_policy

        return compile_policy(policy)

    def check(self, model: Any, ctx: ValidationContext) -> Iterable[tuple[str, str]]:
        errors: list[FieldError] = []
        for index, rule in enumerate(model.artifacts.attestations):
            path = f"spec.artifacts.attestations.{index}"
            if rule.type == "*" and rule.name == "*":
                errors.append(FieldError(f"{path}.name", "name and type cannot both be '*'"))
            if rule.for_control is not None and rule.type != "decision":
                errors.append(FieldError(f"{path}.for_control", "only valid when type is 'decision'"))
        if errors:
            raise InvalidInput("; ".join(f"{e.field}: {e.message}" for e in errors[:5]), errors)
        return ()
