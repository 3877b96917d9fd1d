"""Request plumbing shared by the JFrog routers: the prefix, the media type check, responses."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse

from policyhub.http.compat.jfrog.schemas import JFrogErrors
from policyhub.http.media import check_json_media

PREFIX = "/unifiedpolicy/api/v1"

#: The documented error statuses, for OpenAPI.
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": JFrogErrors, "description": "Bad Request (validation error)"},
    401: {"model": JFrogErrors, "description": "Unauthorized"},
    403: {"model": JFrogErrors, "description": "Forbidden"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": JFrogErrors, "description": "Not found"}}


def conflict(description: str) -> dict[int | str, dict[str, Any]]:
    return {409: {"model": JFrogErrors, "description": description}}


def require_json(request: Request) -> None:
    """A body declared as anything but JSON is a 415; an undeclared one is read as JSON (``jf api``
    sends its bodies without a Content-Type)."""
    check_json_media(request.headers.get("content-type"), required=False)


#: Declared before the body so a non-JSON body is a 415, not a parse error.
JsonRequest = Annotated[None, Depends(require_json)]


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)
