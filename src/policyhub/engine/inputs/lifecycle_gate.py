"""``lifecycle_gate``: may an application version pass a stage's gate (JFrog)?"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from policyhub.engine.points import DecisionPoint


class LifecycleGateInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stage: str = Field(max_length=128)
    gate: str = Field(max_length=32)
    application: dict[str, Any] = Field(default_factory=dict)
    evidence: dict[str, Any] = Field(default_factory=dict)


LIFECYCLE_GATE = DecisionPoint(
    name="lifecycle_gate",
    description="An application version at a stage gate: may it pass?",
    input_model=LifecycleGateInput,
)
