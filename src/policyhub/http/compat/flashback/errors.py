"""Flashback's error shape, ``{"success": false, "message": "..."}``, for every error under ``/policy``."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from policyhub.errors import DomainError
from policyhub.http.compat.flashback.translate import error_message
from policyhub.http.problems import standard_headers


def render_error(status: int, exc: DomainError, request: Request) -> Response:
    """Render any error (domain, auth, routing, validation, 5xx) the way Flashback's backend does."""
    retry_after_s = getattr(request.app.state, "retry_after_s", 2)
    return JSONResponse(
        {"success": False, "message": error_message(exc)},
        status_code=status,
        headers=standard_headers(status, exc, retry_after_s),
    )
