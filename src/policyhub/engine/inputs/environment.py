"""``environment``: is what runs in an environment compliant with its policies (Kosli)?"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from policyhub.engine.points import DecisionPoint


class EnvironmentInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    environment: str | None = Field(default=None, max_length=256)
    artifacts: list[dict[str, Any]] = Field(default_factory=list)


ENVIRONMENT = DecisionPoint(
    name="environment",
    description="An environment's running artifacts: are they compliant?",
    input_model=EnvironmentInput,
)
