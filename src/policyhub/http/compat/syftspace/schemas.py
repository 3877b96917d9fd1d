"""Syft Space wire models (``backend/syft_space/components/policies/schemas.py``), plus a minimal endpoint.

Models carry a ``SyftSpace`` prefix (``SyftSpacePolicyResponse`` is Syft Space's ``PolicyResponse``) so their
OpenAPI component names never collide with other dialects' or FastAPI's own. Requests ignore unknown fields,
as Syft Space's pydantic models do (its frontend and newer versions send fields older ones do not know).
Responses are documented here and rendered as plain dicts by :mod:`.translate`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

from policyhub.domain import names
from policyhub.errors import InvalidInput

#: Where the dialect is served.
PREFIX = "/syftspace"
NAME_MAX = 255


def _visible_text(value: str) -> str:
    """Free text, but no control or invisible characters (they cannot be told apart in a UI)."""
    try:
        names.check_text("name", value, max_len=NAME_MAX)
    except InvalidInput as exc:  # -> a pydantic value error, so a 422 like any other schema error
        raise ValueError(exc.errors[0].message if exc.errors else exc.detail) from None
    return value


class _Request(BaseModel):
    model_config = ConfigDict(extra="ignore")  # pydantic's default, which Syft Space keeps


class SyftSpaceCreatePolicyRequest(_Request):
    """``POST /policies/``: every field is required."""

    name: str = Field(min_length=1, max_length=NAME_MAX, description="free text, unique per endpoint")
    policy_type: str = Field(description="rate_limit, access or accounting (GET /policies/types/)")
    configuration: dict[str, Any] = Field(description="validated and normalised by the policy type")
    endpoint_id: UUID = Field(description="the endpoint (a PolicyHub scope of kind 'endpoint') to attach to")
    wallet_id: UUID | None = Field(
        default=None,
        description="Syft Space's wallet for payment policy types; none of the types served here takes one "
        "(a value is a 400, as Syft Space answers for its non-wallet types)",
    )

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        return _visible_text(value)


class SyftSpaceUpdatePolicyRequest(_Request):
    """``PATCH /policies/{policy_id}``: all optional; ``configuration`` is shallow-merged, then re-validated.

    ``policy_type`` and ``endpoint_id`` are immutable: repeating the stored value is accepted, any other
    value is a 400.
    """

    name: str | None = Field(default=None, min_length=1, max_length=NAME_MAX, description="new name")
    configuration: dict[str, Any] | None = Field(
        default=None, description="partial configuration merged into the existing one ({**existing, **patch})"
    )

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str | None) -> str | None:
        return None if value is None else _visible_text(value)


class SyftSpacePolicyResponse(BaseModel):
    id: UUID
    name: str
    policy_type: str
    configuration: dict[str, Any]
    endpoint_id: UUID | None = Field(description="null only for org-wide policies created through /v1")
    created_at: datetime
    updated_at: datetime


class SyftSpacePolicyListItem(BaseModel):
    id: UUID
    name: str
    policy_type: str
    endpoint_id: UUID | None
    created_at: datetime


class SyftSpacePolicyTypeSchema(BaseModel):
    properties: dict[str, Any]
    required: list[str]


class SyftSpacePolicyTypeInfoResponse(BaseModel):
    name: str
    description: str
    config_schema: SyftSpacePolicyTypeSchema
    icon: str
    enabled: bool


class SyftSpaceMessageResponse(BaseModel):
    message: str


class SyftSpaceCreateEndpointRequest(_Request):
    """Syft Space's ``CreateEndpointRequest`` (``components/endpoints/schemas.py``). PolicyHub keeps every field
    and returns it; it does not serve datasets or models, so ``dataset_id`` and ``model_id`` are kept as given."""

    name: str = Field(min_length=1, max_length=200)
    slug: str = Field(pattern=names.KEY_PATTERN.pattern, max_length=128, description="unique at the org level")
    description: str = Field(default="", max_length=4096, description="Markdown description")
    summary: str = Field(default="", max_length=4096, description="brief summary")
    dataset_id: UUID | None = Field(default=None, description="kept, not resolved")
    model_id: UUID | None = Field(default=None, description="kept, not resolved")
    response_type: str = Field(default="both", max_length=64, description="raw, summary or both")
    published: bool = Field(default=False, description="kept; PolicyHub publishes nothing")
    tags: str = Field(default="", max_length=4096, description="comma-separated tags")

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        return _visible_text(value)


class SyftSpaceSlugAvailabilityRequest(_Request):
    """Syft Space's ``SlugAvailabilityRequest``: the frontend asks before creating an endpoint."""

    slug: str = Field(pattern=names.KEY_PATTERN.pattern, max_length=128)
    marketplace_ids: list[UUID] | None = Field(default=None, max_length=100)
    check_all_marketplaces: bool = False


class SyftSpaceMarketplaceAvailability(BaseModel):
    marketplace_id: UUID
    available: bool | None
    error: str | None = None


class SyftSpaceSlugAvailabilityResponse(BaseModel):
    slug: str
    local_available: bool = Field(description="no scope holds this key at the org level")
    marketplaces: list[SyftSpaceMarketplaceAvailability] | None = Field(
        description="PolicyHub publishes to no marketplace: [] when all were asked, each asked id unknown (null)"
    )


class SyftSpaceAttachedPolicy(BaseModel):
    id: UUID
    name: str
    policy_type: str
    configuration: dict[str, Any]
    wallet_id: UUID | None = None


class SyftSpaceEndpointResponse(BaseModel):
    """Syft Space's ``EndpointCreateResponse``; GET by slug or id adds ``policies`` (``EndpointDetailResponse``).
    ``updated_at`` is ``created_at``: endpoints are not updated here."""

    id: UUID
    name: str
    slug: str
    description: str
    summary: str
    response_type: str
    published: bool
    tags: str
    created_at: datetime
    updated_at: datetime
    model_id: UUID | None
    dataset_id: UUID | None
    policies: list[SyftSpaceAttachedPolicy] | None = Field(default=None, description="GET one endpoint only")


class SyftSpaceHTTPError(BaseModel):
    """Every error but request-schema errors: ``{"detail": "<message>"}``."""

    detail: str


class SyftSpaceValidationErrorItem(BaseModel):
    type: str
    loc: list[str | int]
    msg: str
    input: Any = None
    ctx: dict[str, Any] | None = None


class SyftSpaceHTTPValidationError(BaseModel):
    """Request-schema errors (422), as FastAPI renders them."""

    detail: list[SyftSpaceValidationErrorItem]


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": SyftSpaceHTTPError, "description": "missing or invalid API key"},
    404: {"model": SyftSpaceHTTPError, "description": "not found, or a tenant header naming another tenant"},
    422: {"model": SyftSpaceHTTPValidationError, "description": "the request does not match its schema"},
}
WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    400: {"model": SyftSpaceHTTPError, "description": "unknown policy type, invalid configuration, immutable field"},
    403: {"model": SyftSpaceHTTPError, "description": "the key may not write here"},
    409: {"model": SyftSpaceHTTPError, "description": "the name is taken on this endpoint"},
    412: {"model": SyftSpaceHTTPError, "description": "If-Match is stale (PATCH, DELETE)"},
    428: {"model": SyftSpaceHTTPError, "description": "the org requires If-Match on writes (PATCH, DELETE)"},
}
