"""Kosli's error shape, ``{"message": ..., "errors": {field: message}}``, for every error under ``/api/v2``.

``errors`` appears only for validation errors (as in Kosli's ``ValidationErrorResponseModel``); the
Kosli CLI prints ``message`` and, when present, ``errors``. A 413 (the core's body limit, or our own
check of ``policy_file``) carries Kosli's documented message.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from policyhub.errors import DomainError, InvalidInput
from policyhub.http.problems import standard_headers

VALIDATION_MESSAGE = "Input payload validation failed"
#: Kosli's documented 413 body; its limit for ``policy_file`` is 10 MB (read as MiB, like the core's limit).
FILE_TOO_LARGE = "File size exceeds 10MB limit"
FILE_LIMIT_BYTES = 10 * 1024 * 1024


def error_body(exc: DomainError) -> dict[str, Any]:
    """The Kosli body for a domain error: field errors become ``errors`` under a generic message."""
    if not exc.errors:
        return {"message": exc.detail}
    errors: dict[str, str] = {}
    for err in exc.errors:
        errors[err.field] = f"{errors[err.field]}; {err.message}" if err.field in errors else err.message
    message = VALIDATION_MESSAGE if isinstance(exc, InvalidInput) else exc.detail
    return {"message": message, "errors": errors}


def render_error(status: int, exc: DomainError, request: Request) -> Response:
    """Render any error (domain, auth, routing, validation, body limit, 5xx) the way Kosli's API does."""
    state = request.app.state
    body = error_body(exc)
    if status == 413:
        body = {"message": too_large_message(state.container.settings.max_body_bytes)}
    headers = standard_headers(status, exc, getattr(state, "retry_after_s", 2))
    return JSONResponse(body, status_code=status, headers=headers)


def too_large_message(max_body_bytes: int) -> str:
    """Kosli's 413 message when the core's limit is at least Kosli's; otherwise the real limit."""
    if max_body_bytes >= FILE_LIMIT_BYTES:
        return FILE_TOO_LARGE
    return f"Request body exceeds the {max_body_bytes} bytes limit"
