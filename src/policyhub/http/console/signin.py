"""Signing in (an API key exchanged for a session), signing out, and where ``/`` and ``/console`` lead."""

from __future__ import annotations

import hmac

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from policyhub.errors import Forbidden, Unauthenticated
from policyhub.http.console import session as s
from policyhub.http.console.pages import container, see_other
from policyhub.http.console.templating import render
from policyhub.services import console_sessions
from policyhub.storage.unit_of_work import UnitOfWork

router = APIRouter(include_in_schema=False)

SIGN_IN_COOKIE_S = 3600


@router.get("/")
async def root() -> Response:
    return RedirectResponse(s.PATH, status_code=307)


@router.get("/console")
async def console_home(request: Request) -> Response:
    try:
        user = await s.current_user(request)
    except Unauthenticated:
        return RedirectResponse(f"{s.PATH}/sign-in", status_code=303)
    return RedirectResponse(f"{s.PATH}/orgs/{user.org.slug}/policies", status_code=303)


def _sign_in_page(
    request: Request, *, error: str | None = None, status_code: int = 200, note: str | None = None
) -> Response:
    c = container(request)
    value = request.cookies.get(s.SIGN_IN_COOKIE) or s.new_sign_in_token()
    response = render(
        request,
        "signin.html",
        status_code=status_code,
        error=error,
        note=note,
        csrf=value,
        next=s.safe_next(request.query_params.get("next")) or "",
    )
    s.set_cookie(response, request, c, s.SIGN_IN_COOKIE, value, SIGN_IN_COOKIE_S)
    return response


@router.get("/console/sign-in")
async def sign_in_page(request: Request) -> Response:
    note = "Your session has ended: sign in again." if request.query_params.get("next") else None
    return _sign_in_page(request, note=note)


@router.post("/console/sign-in")
async def sign_in(request: Request) -> Response:
    c = container(request)
    if not s.same_origin(request):
        raise Forbidden("this form was sent from another site")
    form = await s.read_form(request)
    expected = request.cookies.get(s.SIGN_IN_COOKIE)
    presented = form.get("csrf")
    if not expected or not isinstance(presented, str) or not _equal(expected, presented):
        return _sign_in_page(request, error="The sign-in form expired: please try again.", status_code=400)
    api_key = form.get("api_key")
    previous = request.cookies.get(s.COOKIE)

    def open_session(uow: UnitOfWork) -> console_sessions.Opened:
        if previous:  # a new sign-in never keeps the browser's old session (no fixation, no orphan)
            console_sessions.sign_out(uow, previous)
        return console_sessions.sign_in(uow, api_key if isinstance(api_key, str) else "", s.lifetimes(c))

    try:
        opened = await c.db.transact_async(open_session)
    except Unauthenticated:
        return _sign_in_page(request, error="That API key is not valid (unknown, revoked or expired).", status_code=401)
    except Forbidden as exc:
        return _sign_in_page(request, error=f"That key cannot sign in to the console: {exc.detail}", status_code=403)
    nxt = form.get("next")
    target = s.safe_next(nxt if isinstance(nxt, str) else None) or f"{s.PATH}/orgs/{opened.org.slug}/policies"
    response = see_other(target)
    s.set_cookie(response, request, c, s.COOKIE, opened.token, c.settings.console_session_max_s)
    s.clear_cookie(response, request, c, s.SIGN_IN_COOKIE)
    return response


def _equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass"))


@router.post("/console/sign-out")
async def sign_out(request: Request) -> Response:
    c = container(request)
    user = await s.current_user(request)
    await s.checked_form(request, user)
    token = request.cookies.get(s.COOKIE, "")
    await c.db.transact_async(lambda uow: console_sessions.sign_out(uow, token))
    response = see_other(f"{s.PATH}/sign-in")
    s.clear_cookie(response, request, c)
    return response
