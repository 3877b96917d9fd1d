"""``ai_content``: may a prompt or a model response pass an AI gateway (Flashback)?

Besides the text, a gateway may say where it came from (conversation, end user, the gateway key, the
model). Policies do not need these; they are kept in the decision log so that violations and alerts
can say who, where and through which model (Flashback's ``/policy/violations`` and ``/policy/alerts``).

The decision log never keeps the content as sent: whatever a built-in detector finds in it (personal
data, secrets) is masked in the logged copy, whatever the log's input mode.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from policyhub.domain.redaction import Fields, kept, verbatim
from policyhub.evaluation.points import DecisionPoint

#: Texts longer than this are scanned on a worker thread, not the event loop.
OFF_LOOP_CHARS = 16_384


#: An example input (in the OpenAPI document, and sent to the real endpoint by the tests).
EXAMPLE: dict[str, Any] = {
    "content": "Summarise this support ticket for ann@example.com",
    "direction": "prompt",
    "conversation_id": "conv-42",
    "user": "ann@example.com",
    "llm_type": "OPENAI",
    "llm_model": "gpt-4o",
}


class AiContentInput(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE]})

    content: str = Field(max_length=1_000_000, description="the prompt or response text")
    direction: Literal["prompt", "response"] = "prompt"
    conversation_id: str | None = Field(default=None, max_length=200, description="the gateway's conversation id")
    user: str | None = Field(default=None, max_length=320, description="the end user (id or email)")
    user_name: str | None = Field(default=None, max_length=320, description="the end user's display name")
    gateway_key_id: str | None = Field(default=None, max_length=200, description="the gateway API key's id")
    gateway_key_name: str | None = Field(default=None, max_length=200, description="the gateway API key's name")
    llm_type: str | None = Field(default=None, max_length=100, description="the model provider, e.g. OPENAI")
    llm_model: str | None = Field(default=None, max_length=200, description="the model, e.g. gpt-4o")
    host: str | None = Field(default=None, max_length=255, description="the gateway host that asked")


def withheld(content: str) -> str:
    """The logged content when no masker was given: none of it (fail closed)."""
    return f"[withheld: {len(content)} characters]"


@dataclass(frozen=True)
class AiContentPoint(DecisionPoint):
    #: Masks what the built-in detectors find in the content before it is logged. The detectors belong to
    #: the Flashback policy type, above this layer: :func:`policyhub.policy_types.registry.default_points`
    #: passes them in; without them nothing of the content is logged.
    mask: Callable[[str], str] = withheld

    def off_loop(self, data: Any) -> bool:
        """Scanning a long text (up to 1 MB) with every detector takes milliseconds or more."""
        content = data.get("content") if isinstance(data, dict) else None
        return isinstance(content, str) and len(content) > OFF_LOOP_CHARS

    def log_input(self, data: Any) -> Any:
        """The input with its content masked (the log must not keep secrets or personal data in clear)."""
        if not isinstance(data, dict) or not isinstance(data.get("content"), str):
            return data
        return {**data, "content": self.mask(data["content"])}


#: What the decision log keeps in its ``redacted`` mode: every field (the content masked, see
#: :meth:`AiContentPoint.log_input`), each scrubbed of anything token-shaped, except the gateway's ids
#: of the conversation and of its API key, which Flashback's violations show as they were sent.
LOG_FIELDS = Fields(
    {name: verbatim if name in ("conversation_id", "gateway_key_id") else kept for name in AiContentInput.model_fields}
)

AI_CONTENT = AiContentPoint(
    name="ai_content",
    description="A prompt or a model response: may it pass?",
    input_model=AiContentInput,
    log_fields=LOG_FIELDS,
)
