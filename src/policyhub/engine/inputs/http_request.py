"""``http_request``: an API gateway asks whether a request may pass (rate limits, IP lists, access, conditions)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from policyhub.engine.points import DecisionPoint


class HttpRequestInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: str = Field(default="GET", max_length=16)
    path: str = Field(default="/", max_length=8192)
    headers: dict[str, str] = Field(default_factory=dict, description="header names are case-insensitive")
    query: dict[str, str | list[str]] = Field(default_factory=dict)
    body: Any = None
    client_ip: str | None = Field(default=None, max_length=64)
    user: str | None = Field(default=None, max_length=320, description="the authenticated caller (e.g. an email)")
    context: dict[str, Any] = Field(default_factory=dict, description="gateway context values")


HTTP_REQUEST = DecisionPoint(
    name="http_request",
    description="An API gateway request: may it pass?",
    input_model=HttpRequestInput,
)
