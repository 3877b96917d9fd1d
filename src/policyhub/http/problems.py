"""Turning errors into responses, once. Each face (``/v1``, each vendor dialect) owns a renderer.

``/v1`` speaks RFC 9457 problem+json: ``type``, ``title``, ``status``, ``detail`` and ``errors``
(``[{field, message}]``). A vendor dialect registers its own renderer for its path prefix, so its
clients see the error shape they know. No response ever carries a stack trace.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from policyhub import errors as e

log = structlog.get_logger("policyhub.errors")

STATUS: dict[type[e.DomainError], int] = {
    e.InvalidInput: 400,
    e.Unauthenticated: 401,
    e.Forbidden: 403,
    e.NotFound: 404,
    e.Conflict: 409,
    e.Gone: 410,
    e.PatchTestFailed: 409,
    e.PreconditionFailed: 412,
    e.PayloadTooLarge: 413,
    e.UnsupportedMediaType: 415,
    e.IdempotencyMismatch: 422,
    e.PreconditionRequired: 428,
    e.Unavailable: 503,
}

#: A renderer turns (status, domain error, request) into the face's response.
Renderer = Callable[[int, e.DomainError, Request], Response]


class RequestInvalid(e.InvalidInput):
    """FastAPI rejected the request's shape (path, query, header or body parameters).

    ``/v1`` answers 400 like any invalid input; a face that mimics FastAPI may answer 422 from ``raw``.
    """

    def __init__(self, detail: str, errors: list[e.FieldError], raw: list[dict[str, Any]]) -> None:
        super().__init__(detail, errors)
        self.raw = raw


def status_of(exc: e.DomainError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def standard_headers(status: int, exc: e.DomainError, retry_after_s: int = 2) -> dict[str, str]:
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="policyhub", Basic realm="policyhub"'
    if status == 503:
        headers["Retry-After"] = str(retry_after_s)
    if isinstance(exc, e.PreconditionFailed) and exc.current_etag:
        headers["ETag"] = exc.current_etag
    return headers


def problem_body(status: int, exc: e.DomainError) -> dict[str, Any]:
    """The ``/v1`` problem document (RFC 9457) of a domain error."""
    slug = exc.title.lower().replace(" ", "-")
    return {
        "type": f"https://policyhub.dev/problems/{slug}",
        "title": exc.title,
        "status": status,
        "detail": exc.detail,
        "errors": [err.as_dict() for err in exc.errors],
    }


def problem_response(status: int, exc: e.DomainError, request: Request) -> Response:
    """The ``/v1`` renderer: application/problem+json."""
    body = problem_body(status, exc)
    retry = getattr(request.app.state, "retry_after_s", 2)
    return JSONResponse(
        body, status_code=status, headers=standard_headers(status, exc, retry), media_type="application/problem+json"
    )


class ErrorFaces:
    """Chooses the renderer by the longest registered path prefix; ``/v1`` style by default."""

    def __init__(self) -> None:
        self._faces: list[tuple[str, Renderer]] = []

    def register(self, prefix: str, renderer: Renderer) -> None:
        self._faces.append((prefix, renderer))
        self._faces.sort(key=lambda item: len(item[0]), reverse=True)

    def render(self, status: int, exc: e.DomainError, request: Request) -> Response:
        path = request.url.path
        for prefix, renderer in self._faces:
            if path == prefix or path.startswith(prefix.rstrip("/") + "/"):
                return renderer(status, exc, request)
        return problem_response(status, exc, request)


def install(app: FastAPI, faces: ErrorFaces) -> None:
    """Register the handlers that turn every error into its face's response."""

    @app.exception_handler(e.DomainError)
    async def _domain(request: Request, exc: e.DomainError) -> Response:
        return faces.render(status_of(exc), exc, request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errs = []
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "header")]
            msg = "unknown field" if err.get("type") == "extra_forbidden" else str(err.get("msg", "invalid"))
            where = err.get("loc", ("",))[0]
            errs.append(e.FieldError(".".join(loc) or str(where), msg))
        detail = "; ".join(f"{x.field}: {x.message}" for x in errs) or "invalid request"
        raw = jsonable_encoder(exc.errors())
        return faces.render(400, RequestInvalid(detail, errs, raw), request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        status = exc.status_code
        phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
        err = e.DomainError(str(exc.detail) if exc.detail else phrase)
        err.title = phrase
        response = faces.render(status, err, request)
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error", path=request.url.path, method=request.method)
        err = e.DomainError("an unexpected error occurred; it has been logged")
        err.title = "Internal Server Error"
        return faces.render(500, err, request)
