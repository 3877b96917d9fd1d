"""``flashback.ai``: a Flashback AI-gateway policy (natural-language rule, risk level, action).

``name`` is a core policy field; the scope (org / workspace / repo) is where the policy is attached
and cannot change after creation, so it is not part of the spec.

Policies are evaluated at the ``ai_content`` decision point: the content selects built-in detectors
(:mod:`.vocabulary`, :mod:`.detectors`), with the optional judge for what they cannot see (:mod:`.evaluate`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt

from policyhub.policy_types.base import ModelPolicyType
from policyhub.policy_types.flashback.evaluate import FlashbackPolicy, JudgedPolicy
from policyhub.policy_types.flashback.vocabulary import select

if TYPE_CHECKING:
    from policyhub.domain.records import Policy
    from policyhub.evaluation.compiled import CompiledPolicy, Resources

MAX_CONTENT_CHARS = 10_000
ACTION_TYPES = {0: "log", 1: "alert", 2: "block"}
_ACTION_SCHEMA: dict[str, Any] = {"enum": sorted(ACTION_TYPES)}


def _check_content(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _check_action(value: int) -> int:
    if value not in ACTION_TYPES:
        raise ValueError("must be 0 (log), 1 (alert) or 2 (block)")
    return value


class FlashbackAiSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    content: Annotated[str, Field(min_length=1, max_length=MAX_CONTENT_CHARS), AfterValidator(_check_content)] = Field(
        description="The policy rule in natural language"
    )
    riskType: Literal["LOW", "MEDIUM", "HIGH"] = Field(description="Risk classification (violation severity)")
    actionType: Annotated[StrictInt, AfterValidator(_check_action)] = Field(
        description="Action on violation: 0 = log, 1 = alert, 2 = block",
        json_schema_extra=_ACTION_SCHEMA,
    )


class FlashbackAiType(ModelPolicyType):
    """Flashback AI policy: evaluated against prompts and responses flowing through the AI gateway."""

    name = "flashback.ai"
    title = "Flashback AI policy"
    description = (
        "A natural-language rule for AI traffic through Flashback's gateway, with a risk level "
        "(LOW, MEDIUM, HIGH) and an action (0 log, 1 alert, 2 block)."
    )
    spec_model = FlashbackAiSpec
    decision_point = "ai_content"

    def compile(self, policy: Policy, resources: Resources) -> CompiledPolicy:
        selection = select(policy.spec["content"])
        if selection.mode == "detectors":
            return FlashbackPolicy(policy, selection)
        return JudgedPolicy(policy, selection)
