"""AuthZEN's error face: the status code and "an error message string" as the body (``text/plain``).

The specification's table (section "Error Responses"): 400 Bad Request, 401 Unauthorized, 403
Forbidden, 500 Internal Error, each with an error message string. A Content-Type other than
``application/json`` is a 400 here (the certification scenario's rule), not the 415 of ``/v1``.
``X-Request-ID`` is echoed on errors too.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import PlainTextResponse, Response

from policyhub.errors import DomainError, UnsupportedMediaType
from policyhub.http.problems import standard_headers

REQUEST_ID = "X-Request-ID"


def echo(request: Request, headers: dict[str, str]) -> dict[str, str]:
    """``headers`` plus the request's ``X-Request-ID``, if it sent one."""
    given = request.headers.get(REQUEST_ID)
    if given is not None:
        headers[REQUEST_ID] = given
    return headers


def render_error(status: int, exc: DomainError, request: Request) -> Response:
    """Render any error raised under the AuthZEN paths."""
    if isinstance(exc, UnsupportedMediaType):
        status = 400
    retry = getattr(request.app.state, "retry_after_s", 2)
    message = exc.detail or exc.title
    return PlainTextResponse(message, status_code=status, headers=echo(request, standard_headers(status, exc, retry)))
