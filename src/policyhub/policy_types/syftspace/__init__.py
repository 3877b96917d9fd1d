"""Syft Space endpoint policies: ``syftspace.rate_limit``, ``syftspace.access``, ``syftspace.accounting``.

The spec is Syft Space's ``configuration`` dict, normalised like Syft Space's ``model_dump()`` (defaults
filled: ``{"limit": "200/m"}`` becomes ``{"limit": "200/m", "scope": "per_user", "applied_to": ["*"]}``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from policyhub.errors import InvalidInput
from policyhub.policy_types.base import ModelPolicyType, ValidationContext
from policyhub.sandbox.glob import glob_problem
from policyhub.sandbox.regex import PatternBudget

if TYPE_CHECKING:
    from policyhub.domain.records import Policy
    from policyhub.evaluation.compiled import CompiledPolicy, Resources

SYFTSPACE_PREFIX = "syftspace."
MAX_RATE_COUNT = 1_000_000_000
_LIMIT = re.compile(r"(\d{1,12})/([smh])")
Pattern = Annotated[str, Field(min_length=1, max_length=320, description="glob over the sender's email")]


def _check_limit(value: str) -> str:
    match = _LIMIT.fullmatch(value)
    if match is None:
        raise ValueError("must look like <count>/<unit> with unit s, m or h, e.g. 50/m, 1000/h, 100/s")
    count = int(match.group(1))
    if not 0 < count <= MAX_RATE_COUNT:
        raise ValueError(f"the count must be between 1 and {MAX_RATE_COUNT}")
    return f"{count}/{match.group(2)}"  # canonical: no leading zeros


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class RateLimitConfig(_Config):
    """Requests allowed per window for each user (per_user) or for the whole endpoint (global)."""

    limit: Annotated[str, AfterValidator(_check_limit)] = Field(
        description="Rate limit as <count>/<unit> (s, m or h), e.g. 50/m", examples=["50/m", "1000/h"]
    )
    scope: Literal["per_user", "global"] = Field(default="per_user", description="per_user or global")
    applied_to: list[Pattern] = Field(
        default_factory=lambda: ["*"], max_length=1000, description="email glob patterns the limit applies to"
    )


class AccessConfig(_Config):
    """Allow and deny lists of email glob patterns; an empty allow list allows everyone not denied."""

    allowed_users: list[Pattern] = Field(default_factory=list, max_length=10000)
    denied_users: list[Pattern] = Field(default_factory=list, max_length=10000)


class AccountingConfig(_Config):
    """A price per call, charged through the marketplace's transaction tokens."""

    price: float = Field(ge=0, allow_inf_nan=False, description="price per call (0 = free)")
    pricing_mode: Literal["per_call"] = "per_call"
    applied_to: list[Pattern] = Field(default_factory=lambda: ["*"], max_length=1000)


class SyftSpaceType(ModelPolicyType):
    """Base of the Syft Space types: ``vendor_name`` is the Syft Space ``policy_type``.

    All three guard an endpoint's queries: they decide at ``http_request`` (request phase); their
    evaluators are in :mod:`policyhub.policy_types.syftspace.evaluate`.
    """

    vendor_name: ClassVar[str]
    icon: ClassVar[str]
    error_label: ClassVar[str]
    decision_point = "http_request"

    def check(self, model: Any, ctx: ValidationContext) -> Iterable[tuple[str, str]]:
        """Every glob runs on RE2 (:mod:`policyhub.sandbox.glob`), the policy's globs within one budget."""
        budget = PatternBudget()
        for field in ("applied_to", "allowed_users", "denied_users"):
            for index, glob in enumerate(getattr(model, field, ())):
                problem = glob_problem(glob.lower(), budget)
                if problem is not None:
                    raise InvalidInput.field(f"spec.{field}.{index}", problem)
        return ()

    def compile(self, policy: Policy, resources: Resources) -> CompiledPolicy:
        from policyhub.policy_types.syftspace import evaluate

        config = self.spec_model.model_validate(policy.spec)
        compiler: Callable[[Policy, Any], CompiledPolicy] = {
            "rate_limit": evaluate.CompiledRateLimit,
            "access": evaluate.CompiledAccess,
            "accounting": evaluate.CompiledAccounting,
        }[self.vendor_name]
        return compiler(policy, config)


class RateLimitType(SyftSpaceType):
    name = "syftspace.rate_limit"
    vendor_name = "rate_limit"
    icon = "\u23f1\ufe0f"
    error_label = "rate limit"
    title = "Syft Space rate limit"
    description = "Limit the number of requests per time window, per user or for the whole endpoint."
    spec_model = RateLimitConfig


class AccessType(SyftSpaceType):
    name = "syftspace.access"
    vendor_name = "access"
    icon = "\U0001f510"
    error_label = "access policy"
    title = "Syft Space access control"
    description = "Allow or deny users by email glob patterns."
    spec_model = AccessConfig


class AccountingType(SyftSpaceType):
    name = "syftspace.accounting"
    vendor_name = "accounting"
    icon = "\U0001f4b0"
    error_label = "accounting"
    title = "Syft Space accounting"
    description = "Charge a price per call through marketplace transaction tokens."
    spec_model = AccountingConfig


SYFTSPACE_TYPES: tuple[type[SyftSpaceType], ...] = (RateLimitType, AccessType, AccountingType)
_BY_VENDOR_NAME = {t.vendor_name: t for t in SYFTSPACE_TYPES}


def syftspace_types() -> list[SyftSpaceType]:
    """One instance of each Syft Space policy type, for the registry."""
    return [t() for t in SYFTSPACE_TYPES]


def syftspace_type_names() -> list[str]:
    """Syft Space's own type names (``rate_limit``, ...), sorted."""
    return sorted(_BY_VENDOR_NAME)


def require_syftspace_type(vendor_name: Any) -> SyftSpaceType:
    """The type for a Syft Space ``policy_type``; unknown → InvalidInput ("Policy type 'x' not found")."""
    policy_type = _BY_VENDOR_NAME.get(vendor_name) if isinstance(vendor_name, str) else None
    if policy_type is None:
        raise InvalidInput.field("policy_type", f"Policy type {vendor_name!r} not found")
    return policy_type()


def syftspace_type_schema(vendor_name: str) -> dict[str, Any]:
    """The ``GET /policies/types/{name}/schema`` view: ``{"properties": {...}, "required": [...]}``."""
    schema = require_syftspace_type(vendor_name).spec_model.model_json_schema()
    return {"properties": schema.get("properties", {}), "required": schema.get("required", [])}


def syftspace_type_info(vendor_name: str) -> dict[str, Any]:
    """A ``PolicyTypeInfoResponse``: ``{name, description, config_schema, icon, enabled}``."""
    policy_type = require_syftspace_type(vendor_name)
    return {
        "name": policy_type.vendor_name,
        "description": policy_type.description,
        "config_schema": syftspace_type_schema(vendor_name),
        "icon": policy_type.icon,
        "enabled": True,
    }


def syftspace_error_prefix(vendor_name: str) -> str:
    """Syft Space's 400 detail prefix, e.g. ``"Invalid rate limit config: "``."""
    return f"Invalid {require_syftspace_type(vendor_name).error_label} config: "


def merge_configuration(existing: dict[str, Any], patch: Any) -> dict[str, Any]:
    """PATCH semantics: a shallow merge (``{**existing, **patch}``); the caller re-validates the result."""
    if not isinstance(patch, dict):
        raise InvalidInput.field("configuration", "must be a JSON object")
    return {**existing, **patch}
