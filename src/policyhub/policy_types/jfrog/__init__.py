"""``jfrog.lifecycle``: a JFrog Unified Policy (AppTrust lifecycle policy) body, minus server fields.

``name``, ``description`` and ``enabled`` are core policy fields, not part of the spec. Templates and
rules are not policy types; :mod:`policyhub.policy_types.jfrog.templates` validates them for the API.
The type evaluates at the ``lifecycle_gate`` decision point (:mod:`.evaluate`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from policyhub.errors import FieldError, InvalidInput
from policyhub.policy_types.base import ModelPolicyType, ValidationContext
from policyhub.policy_types.jfrog.kinds import RULE_KIND, TEMPLATE_KIND
from policyhub.policy_types.jfrog.rego import allowed_rego_builtins, disallowed_rego_calls
from policyhub.policy_types.jfrog.templates import (
    RuleInput,
    TemplateInput,
    check_rule_parameters,
    validate_rego,
    validate_rule,
    validate_template,
)

if TYPE_CHECKING:
    from policyhub.domain.records import Policy
    from policyhub.evaluation.compiled import CompiledPolicy, Resources

__all__ = [
    "RULE_KIND",
    "TEMPLATE_KIND",
    "JFrogLifecycleType",
    "LifecyclePolicySpec",
    "RuleInput",
    "TemplateInput",
    "allowed_rego_builtins",
    "check_rule_parameters",
    "disallowed_rego_calls",
    "validate_rego",
    "validate_rule",
    "validate_template",
]

STAGED_ACTIONS = ("certify_to_gate",)
Key = Annotated[str, Field(min_length=1, max_length=255)]


def _one_rule(ids: list[str]) -> list[str]:
    if len(ids) != 1:
        raise ValueError(f"exactly one rule id is required (one rule per policy), got {len(ids)}")
    return ids


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Stage(_Model):
    key: Key = Field(description="lifecycle stage key, e.g. qa or production")
    gate: Literal["entry", "exit", "release"]


class Action(_Model):
    type: Literal["certify_to_gate", "use_skill"]
    stage: Stage | None = None


class Label(_Model):
    key: Key
    value: str = Field(max_length=255)


class Scope(_Model):
    type: Literal["project", "application"]
    project_keys: list[Key] | None = Field(default=None, max_length=100)
    application_keys: list[Key] | None = Field(default=None, max_length=1000)
    application_labels: list[Label] | None = Field(default=None, max_length=1000)


class LifecyclePolicySpec(_Model):
    mode: Literal["block", "warning"]
    action: Action
    scope: Scope
    rule_ids: Annotated[list[Key], AfterValidator(_one_rule)] = Field(max_length=100)


class JFrogLifecycleType(ModelPolicyType):
    """A lifecycle policy: one rule, enforced at a stage gate for a project or applications."""

    name = "jfrog.lifecycle"
    title = "JFrog lifecycle policy"
    description = (
        "A JFrog Unified Policy: evaluates one rule (rule_ids) when an application version crosses a "
        "lifecycle stage gate (action), for one project or for applications (scope); mode block or warning."
    )
    spec_model = LifecyclePolicySpec
    may_reference = True
    decision_point = "lifecycle_gate"

    def references(self, spec: dict[str, Any]) -> tuple[tuple[str, str], ...]:
        return tuple((RULE_KIND, str(rule_id)) for rule_id in spec.get("rule_ids", []))

    def check(self, model: Any, ctx: ValidationContext) -> Iterable[tuple[str, str]]:
        spec: LifecyclePolicySpec = model
        errors = [*_action_errors(spec.action), *_scope_errors(spec.scope)]
        rule_id = spec.rule_ids[0]
        if not ctx.reference_exists(RULE_KIND, rule_id):
            errors.append(FieldError("spec.rule_ids.0", f"rule {rule_id!r} does not exist"))
        if errors:
            raise InvalidInput("; ".join(f"{e.field}: {e.message}" for e in errors[:5]), errors)
        return ((RULE_KIND, rule_id),)

    def compile(self, policy: Policy, resources: Resources) -> CompiledPolicy:
        """The policy's gate and scope, and its rule bound to its template's compiled Rego."""
        from policyhub.policy_types.jfrog.evaluate import CompiledLifecyclePolicy

        return CompiledLifecyclePolicy(policy, resources)


def _action_errors(action: Action) -> list[FieldError]:
    if action.type in STAGED_ACTIONS and action.stage is None:
        return [FieldError("spec.action.stage", f"required for action type {action.type!r}")]
    if action.type not in STAGED_ACTIONS and action.stage is not None:
        return [FieldError("spec.action.stage", f"not allowed for action type {action.type!r}")]
    return []


def _scope_errors(scope: Scope) -> list[FieldError]:
    errors: list[FieldError] = []
    if scope.type == "project":
        if len(scope.project_keys or []) != 1:
            errors.append(FieldError("spec.scope.project_keys", "project scope needs exactly one project key"))
        for field in ("application_keys", "application_labels"):
            if getattr(scope, field) is not None:
                errors.append(FieldError(f"spec.scope.{field}", "only valid for application scope"))
        return errors
    if not scope.application_keys and not scope.application_labels:
        errors.append(
            FieldError(
                "spec.scope.application_keys",
                "application scope needs application_keys and/or application_labels",
            )
        )
    if scope.project_keys is not None and len(scope.project_keys) > 1:
        errors.append(FieldError("spec.scope.project_keys", "at most one project key"))
    return errors
