"""``access_rules``: "role X may do Y on Z" without writing Rego, decided at point ``authzen``.

A spec is a list of rules. A rule matches an AuthZEN request when its ``subject``, ``action`` and
``resource`` patterns match (``type``, ``id``/``name``: a glob or a list of globs; absent: anything) and
every condition in ``when`` holds. Conditions read a dotted path into the request (``subject.id``,
``subject.properties.role``, ``resource.properties.owner``, ``action.properties.soft``,
``context.ip``...) and test it with exactly one of ``equals``, ``in``, ``contains``, ``glob``,
``equals_path`` (another path: ``resource.properties.owner`` equals ``subject.id``) or ``detects``
(PolicyHub's built-in PII and secret detectors, those of the ``ai_content`` point, run over every string
under the path: how an MCP gateway's tool arguments are checked); ``negate: true`` inverts it.

Combination is *deny-overrides*, closed by default: a matching ``deny`` rule denies; otherwise a matching
``allow`` rule allows; otherwise the request is denied ("no rule allows it"). An ``allow`` rule may carry
a ``rate_limit`` (``limit`` requests per ``window_s`` per value of the ``per`` path, counted when it
allows; over it, a deny) and ``obligations`` (AuthZEN obligations profile objects: ``step-up``,
``notification``, ``session_termination`` or ``custom``). ``entities`` lists the subjects, resources and
actions an AuthZEN search may return (:mod:`.directory`).

Bounded: at most 200 rules of 32 conditions each; globs are linear-time RE2 matchers
(:mod:`policyhub.sandbox.glob`) compiled within one budget per policy; the ``detects`` scan reads at
most 64 KiB of text per condition.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr, model_validator

from policyhub.errors import FieldError, InvalidInput
from policyhub.policy_types.access_rules.directory import Directory
from policyhub.policy_types.base import ModelPolicyType, ValidationContext
from policyhub.policy_types.flashback.detectors import DETECTORS
from policyhub.sandbox.glob import glob_problem
from policyhub.sandbox.regex import PatternBudget

if TYPE_CHECKING:
    from policyhub.domain.records import Policy
    from policyhub.evaluation.compiled import CompiledPolicy, Resources

MAX_RULES = 200
MAX_CONDITIONS = 32
MAX_GLOBS = 100
ROOTS = ("subject", "resource", "action", "context")
OPERATORS = ("equals", "in", "contains", "glob", "equals_path", "detects")
DETECTOR_GROUPS = ("pii", "secrets", "all")

Glob = Annotated[StrictStr, Field(min_length=1, max_length=512)]
Globs = Glob | Annotated[list[Glob], Field(min_length=1, max_length=MAX_GLOBS)]
Path = Annotated[
    StrictStr,
    Field(
        max_length=256,
        pattern=r"^(subject|resource|action|context)(\.[^.\s]{1,64}){0,8}$",
        description="a dotted path into the request, e.g. subject.properties.role",
    ),
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)


class EntityPattern(_Model):
    type: Globs | None = None
    id: Globs | None = None


class ActionPattern(_Model):
    name: Globs | None = None


class Condition(_Model):
    path: Path
    equals: Any = None
    in_: list[Any] | None = Field(default=None, alias="in", max_length=1000)
    contains: Any = None
    glob: Glob | None = None
    equals_path: Path | None = None
    detects: list[StrictStr] | None = Field(default=None, min_length=1, max_length=len(DETECTORS) + 3)
    negate: bool = False

    @model_validator(mode="after")
    def _one_operator(self) -> Condition:
        given = [op for op in OPERATORS if (op if op != "in" else "in_") in self.model_fields_set]
        if len(given) != 1:
            raise ValueError(f"exactly one of {', '.join(OPERATORS)} is required, got {len(given)}")
        value = getattr(self, given[0] if given[0] != "in" else "in_")
        if value is None:
            raise ValueError(f"{given[0]} null is not supported (a missing value never equals anything)")
        try:
            json.dumps(value, allow_nan=False)
        except ValueError:
            raise ValueError(f"{given[0]} must be plain JSON (no NaN or Infinity)") from None
        for name in self.detects or ():
            if name not in DETECTORS and name not in DETECTOR_GROUPS:
                raise ValueError(
                    f"unknown detector {name!r}; use {', '.join(DETECTOR_GROUPS)} or one of {', '.join(DETECTORS)}"
                )
        return self


class RateLimit(_Model):
    limit: int = Field(ge=1, le=1_000_000_000)
    window_s: float = Field(gt=0, le=31 * 86_400)
    per: Path = "subject.id"


class Obligation(_Model):
    """An obligation as the AuthZEN obligations profile defines it."""

    type: Literal["step-up", "notification", "session_termination", "custom"]
    id: StrictStr | None = Field(default=None, max_length=128)
    properties: dict[str, Any] = Field(default_factory=dict)


class Rule(_Model):
    id: StrictStr | None = Field(default=None, max_length=128, description="a name for reasons and logs")
    effect: Literal["allow", "deny"] = "allow"
    subject: EntityPattern | None = None
    action: ActionPattern | None = None
    resource: EntityPattern | None = None
    when: list[Condition] = Field(default_factory=list, max_length=MAX_CONDITIONS)
    reason: StrictStr | None = Field(default=None, max_length=500)
    rate_limit: RateLimit | None = None
    obligations: list[Obligation] = Field(default_factory=list, max_length=10)

    @model_validator(mode="after")
    def _allow_only(self) -> Rule:
        if self.effect == "deny" and self.rate_limit is not None:
            raise ValueError("rate_limit is only allowed on allow rules")
        return self


class AccessRulesSpec(_Model):
    rules: list[Rule] = Field(min_length=1, max_length=MAX_RULES)
    entities: Directory | None = None


def _globs(value: str | list[str] | None) -> list[str]:
    return [] if value is None else [value] if isinstance(value, str) else value


def glob_errors(spec: AccessRulesSpec) -> list[FieldError]:
    """Globs too large to compile, alone or together (one budget per policy)."""
    budget = PatternBudget()
    errors: list[FieldError] = []
    for i, rule in enumerate(spec.rules):
        fields: list[tuple[str, str | list[str] | None]] = []
        for part in ("subject", "resource"):
            pattern = getattr(rule, part)
            if pattern is not None:
                fields += [(f"{part}.type", pattern.type), (f"{part}.id", pattern.id)]
        if rule.action is not None:
            fields.append(("action.name", rule.action.name))
        fields += [(f"when.{j}.glob", c.glob) for j, c in enumerate(rule.when)]
        for where, value in fields:
            for glob in _globs(value):
                problem = glob_problem(glob, budget)
                if problem:
                    errors.append(FieldError(f"spec.rules.{i}.{where}", problem))
    return errors


class AccessRulesType(ModelPolicyType):
    """Subject/action/resource patterns with property conditions; deny-overrides, closed by default."""

    name = "access_rules"
    title = "Access rules"
    description = (
        "Rules of subject, action and resource patterns with property conditions (allow or deny; a deny "
        "overrides; nothing matching denies), decided at point authzen; optional rate limits and obligations."
    )
    spec_model = AccessRulesSpec
    decision_point = "authzen"

    def check(self, model: Any, ctx: ValidationContext) -> Iterable[tuple[str, str]]:
        errors = glob_errors(model)
        if errors:
            raise InvalidInput("; ".join(f"{e.field}: {e.message}" for e in errors[:5]), errors)
        return ()

    def compile(self, policy: Policy, resources: Resources) -> CompiledPolicy:
        from policyhub.policy_types.access_rules.evaluate import CompiledAccessRules

        return CompiledAccessRules(policy)
