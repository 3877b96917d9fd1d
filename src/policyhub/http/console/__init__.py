"""The web console: server-rendered pages under ``/console`` for the people who own the policies.

Sign-in exchanges an API key for a session (``session.py``); every page calls the same services as
``/v1`` with the key's actor, so roles and scopes are the API's. Templates and static files ship in
this package; pages work without JavaScript.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request
from starlette.responses import Response

from policyhub import errors as e
from policyhub.http.console import (  # noqa: F401  (each module adds its pages to the router)
    audit,
    decisions,
    edit,
    history,
    keys,
    policies,
    rollout,
    scopes,
    signin,
)
from policyhub.http.console.pages import router as pages_router
from policyhub.http.console.session import PATH, clear_cookie, sign_in_url
from policyhub.http.console.templating import STATIC_DIR, render
from policyhub.http.problems import ErrorFaces


def install(app: FastAPI, faces: ErrorFaces) -> None:
    """Add the console's routes, its static files and its error pages to ``app``."""
    app.mount(f"{PATH}/static", StaticFiles(directory=STATIC_DIR), name="console-static")
    app.include_router(signin.router)
    app.include_router(pages_router)
    faces.register(PATH, error_page)


def error_page(status: int, exc: e.DomainError, request: Request) -> Response:
    """A console error: no session is the sign-in page (a redirect); anything else an HTML page."""
    if status == 401:
        response: Response = Response(status_code=303, headers={"Location": sign_in_url(request)})
        clear_cookie(response, request, request.app.state.container)
        return response
    return render(request, "error.html", status_code=status, status=status, title=exc.title, exc=exc)
