"""JFrog's error face: ``{"errors": [{"code", "message", "field"}]}`` for every error under the prefix.

Field paths are the wire's: the core's ``spec.scope.project_keys`` is the client's
``scope.project_keys``, and a resource key (rule or template name) is ``name``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from http import HTTPStatus

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from policyhub.errors import Conflict, DomainError, FieldError, InvalidInput, NotFound
from policyhub.http.problems import standard_headers

#: Where the policy type reports a rule id that does not exist (``spec.rule_ids.0``).
RULE_REFERENCE_PREFIX = "spec.rule_ids."


#: Codes by status, spelled out so they do not change with Python's ``HTTPStatus`` names.
CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    412: "PRECONDITION_FAILED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "UNPROCESSABLE_ENTITY",
    428: "PRECONDITION_REQUIRED",
    500: "INTERNAL_SERVER_ERROR",
    503: "SERVICE_UNAVAILABLE",
}


def error_code(status: int) -> str:
    """The machine-readable code of a status: ``BAD_REQUEST``, ``NOT_FOUND``, ``CONFLICT``, ..."""
    if status in CODES:
        return CODES[status]
    try:
        return HTTPStatus(status).name
    except ValueError:
        return "ERROR"


def wire_field(field: str) -> str:
    """The client's name for a core field path."""
    if field.startswith("spec."):
        return field.removeprefix("spec.")
    if field == "key":
        return "name"
    return field


def render_error(status: int, exc: DomainError, request: Request) -> Response:
    """Render any error raised under the JFrog prefix in JFrog's error shape."""
    code = error_code(status)
    items: list[dict[str, str | None]]
    if exc.errors:
        items = [{"code": code, "message": e.message, "field": wire_field(e.field)} for e in exc.errors]
    else:
        items = [{"code": code, "message": exc.detail, "field": None}]
    retry = getattr(request.app.state, "retry_after_s", 2)
    return JSONResponse({"errors": items}, status_code=status, headers=standard_headers(status, exc, retry))


@contextmanager
def rule_references_as_conflicts() -> Iterator[None]:
    """JFrog answers 409 for a policy naming a rule that does not exist; the policy type says 400.

    Translated only when every problem is such a reference, so a body that is also invalid
    otherwise stays a 400 listing all its problems.
    """
    try:
        yield
    except InvalidInput as exc:
        if exc.errors and all(e.field.startswith(RULE_REFERENCE_PREFIX) for e in exc.errors):
            raise Conflict(exc.detail, exc.errors) from None
        raise


@contextmanager
def not_found_as(message: str) -> Iterator[None]:
    """Re-word a core 404 in the vendor's words ("Rule not found")."""
    try:
        yield
    except NotFound:
        raise NotFound(message) from None


@contextmanager
def conflict_as(message: str, field: str | None = None) -> Iterator[None]:
    """Re-word a core 409 (e.g. "still referenced") in the vendor's words, naming ``field``."""
    try:
        yield
    except Conflict as exc:
        if field is None:
            raise Conflict(message) from None
        raise Conflict(message, [FieldError(field, message)]) from exc
