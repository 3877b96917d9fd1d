"""Apinizer's error face: ``{"error": "<code>", "error_description": "<text>"}`` for every error under /apiops.

The verbatim texts of Apinizer's documented errors are built here, so routes and operations raise
ordinary domain errors carrying them (400 for a missing or duplicate policy, 404 for a missing proxy).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from policyhub.errors import DomainError, FieldError, InvalidInput, NotFound
from policyhub.http.problems import standard_headers

#: HTTP status -> Apinizer error code (codes from the Management API's error-handling page).
CODES = {
    400: "bad_request",
    401: "unauthorized_client",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    429: "rate_limit_exceeded",
    500: "internal_error",
    503: "server_error",
}


def render_error(status: int, exc: DomainError, request: Request) -> Response:
    """Render any error under ``/apiops`` in Apinizer's shape (field problems in ``validation_errors``)."""
    code = CODES.get(status, "bad_request" if status < 500 else "server_error")
    body: dict[str, Any] = {"error": code, "error_description": "Invalid token" if status == 401 else exc.detail}
    if status == 400 and exc.errors:
        body["validation_errors"] = [err.as_dict() for err in exc.errors]
    retry = getattr(request.app.state, "retry_after_s", 2)
    return JSONResponse(body, status_code=status, headers=standard_headers(status, exc, retry))


# -- Apinizer's documented error texts ---------------------------------------------------------------
def policy_missing(name: str) -> InvalidInput:
    return InvalidInput(f"A policy with name ({name}) does not exist in API Proxy!")


def policy_exists(name: str) -> InvalidInput:
    return InvalidInput(f"A policy with same name ({name}) is already exist in API Proxy!")


def proxy_missing(name: str) -> NotFound:
    return NotFound(f"ApiProxy (name: {name}) was not found!")


def project_missing(name: str) -> NotFound:
    return NotFound(f"Project '{name}' not found")


def environment_missing(name: str) -> InvalidInput:
    field = "operationMetadata.deployTargetEnvironmentNameList"
    text = f"Environment (name: {name}) was not found!"
    return InvalidInput(text, [FieldError(field, text)])


def endpoint_missing(endpoint: str, method: str, proxy: str) -> InvalidInput:
    text = f"Endpoint (name: {endpoint}, httpMethod: {method}) was not found in ApiProxy (name: {proxy})!"
    return InvalidInput(text, [FieldError("operationMetadata.targetEndpoint", text)])


def type_changed(old: str, new: str) -> InvalidInput:
    text = f"Policy type cannot be changed (from {old} to {new}); delete the policy and add a new one"
    return InvalidInput(text, [FieldError("policy.type", text)])


# -- core field names -> Apinizer's ------------------------------------------------------------------
def _wire_field(field: str) -> str:
    if field == "spec" or field.startswith("spec."):
        return "policy" + field.removeprefix("spec")
    return "policy.description" if field == "description" else field


@contextmanager
def policy_fields() -> Iterator[None]:
    """Report the core's ``spec.*`` validation problems at Apinizer's ``policy.*`` paths."""
    try:
        yield
    except InvalidInput as exc:
        if not exc.errors:
            raise
        errors = [FieldError(_wire_field(e.field), e.message) for e in exc.errors]
        raise InvalidInput("; ".join(f"{e.field}: {e.message}" for e in errors[:5]), errors) from None
