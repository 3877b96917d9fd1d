"""``http_request``: an API gateway asks whether a request may pass (rate limits, IP lists, access, conditions).

``phase`` says which pipeline asks: ``request`` (before the backend is called; the default),
``response`` (on the backend's answer) or ``error`` (Apinizer's error pipeline). A policy placed in
one pipeline takes no part in the others' decisions; Syft Space policies are request-phase only.

Header names are case-insensitive: they are lower-cased when the input is parsed, so
``input.headers`` and :meth:`HttpRequestInput.header` are plain dictionary lookups.

The decision log keeps (:data:`LOG_FIELDS`) the method, the path with its query values redacted, the
caller (``user``, ``client_ip``), the phase, the values of :data:`LOGGED_HEADERS` only, the names of
query parameters and of other headers, and the numbers and booleans of ``context`` and ``variables``:
never a body, a cookie, a session or credential header, or a query value.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from policyhub.domain.redaction import Fields, Named, kept, non_text, redacted, url
from policyhub.evaluation.points import DecisionPoint

Phase = Literal["request", "response", "error"]


#: An example input (in the OpenAPI document, and sent to the real endpoint by the tests).
EXAMPLE: dict[str, Any] = {
    "method": "POST",
    "path": "/payments",
    "headers": {"user-agent": "curl/8.5.0", "content-type": "application/json"},
    "query": {"dry": "false"},
    "client_ip": "10.0.0.7",
    "user": "ann@example.com",
}


class HttpRequestInput(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE]})

    method: str = Field(default="GET", max_length=16)
    path: str = Field(default="/", max_length=8192)
    headers: dict[str, str] = Field(default_factory=dict, description="header names are case-insensitive")
    query: dict[str, str | list[str]] = Field(default_factory=dict)
    body: Any = None
    client_ip: str | None = Field(default=None, max_length=64)
    user: str | None = Field(default=None, max_length=320, description="the authenticated caller (e.g. an email)")
    context: dict[str, Any] = Field(default_factory=dict, description="gateway context values")
    phase: Phase = Field(default="request", description="the pipeline asking: request, response or error")
    variables: dict[str, str] = Field(
        default_factory=dict,
        description="values the gateway computed for named variables (custom or script variables), by name",
    )
    path_params: dict[str, str] = Field(default_factory=dict, description="path template parameters, by name")

    @field_validator("headers")
    @classmethod
    def _lower_case_names(cls, headers: dict[str, str]) -> dict[str, str]:
        return {name.lower(): value for name, value in headers.items()}

    def header(self, name: str) -> str | None:
        """A header's value by case-insensitive name."""
        return self.headers.get(name.lower())

    def query_value(self, name: str) -> str | None:
        """A query parameter's (first) value."""
        value = self.query.get(name)
        if isinstance(value, list):
            return value[0] if value else None
        return value


#: Headers whose values the decision log keeps (scrubbed of anything token-shaped); any other header's
#: value is redacted (``authorization``, ``cookie``, ``x-jwt-assertion``, ``x-session-id``, ...).
LOGGED_HEADERS = (
    "accept",
    "accept-encoding",
    "accept-language",
    "content-length",
    "content-type",
    "host",
    "origin",
    "user-agent",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-real-ip",
    "x-request-id",
)

LOG_FIELDS = Fields(
    {
        "method": kept,
        "path": url,
        "headers": Named(LOGGED_HEADERS),
        "query": Named(),
        "body": redacted,
        "client_ip": kept,
        "user": kept,
        "phase": kept,
        "context": non_text,
        "variables": non_text,
        "path_params": kept,
    }
)

HTTP_REQUEST = DecisionPoint(
    name="http_request",
    description="An API gateway request: may it pass?",
    input_model=HttpRequestInput,
    log_fields=LOG_FIELDS,
)
