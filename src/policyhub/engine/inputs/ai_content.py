"""``ai_content``: may a prompt or a model response pass an AI gateway (Flashback)?"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from policyhub.engine.points import DecisionPoint


class AiContentInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content: str = Field(max_length=1_000_000)
    direction: Literal["prompt", "response"] = "prompt"


AI_CONTENT = DecisionPoint(
    name="ai_content",
    description="A prompt or a model response: may it pass?",
    input_model=AiContentInput,
)
