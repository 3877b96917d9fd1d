"""Who is signed in to the console: the session cookie resolved to the API key's actor, and the form checks.

A console request acts exactly as an API request with the session's key would: the actor comes from the
same key lookup (and the same short-lived cache, keyed by the key's hash), so every page applies the key's
role and scope through the services. Every POST must carry the session's CSRF token and, when the browser
sends one, an ``Origin`` that is this site's.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import Response

from policyhub.app import Container
from policyhub.domain.records import Actor, Org
from policyhub.errors import Forbidden, NotFound, Unauthenticated, Unavailable
from policyhub.services import console_sessions
from policyhub.services.console_sessions import Lifetimes
from policyhub.storage.repositories.console_sessions import ConsoleSession

COOKIE = "policyhub_session"
SIGN_IN_COOKIE = "policyhub_signin"  # the sign-in form's own CSRF value (double submit), before any session
PATH = "/console"
MAX_FORM_BYTES = 2 * 1024 * 1024


class SignInRequired(Unauthenticated):
    """No live session: the console answers with the sign-in page (a redirect), not an error page."""


@dataclass(frozen=True)
class ConsoleUser:
    actor: Actor
    org: Org
    session: ConsoleSession

    @property
    def csrf(self) -> str:
        return self.session.csrf_token


def lifetimes(c: Container) -> Lifetimes:
    return Lifetimes(c.settings.console_session_idle_s, c.settings.console_session_max_s)


def is_tls(request: Request, c: Container) -> bool:
    """Whether the browser reached us over TLS (then cookies are Secure)."""
    if request.url.scheme == "https":
        return True
    if c.settings.trust_forwarded_proto:
        return request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower() == "https"
    return False


def set_cookie(response: Response, request: Request, c: Container, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path=PATH, httponly=True, samesite="strict", secure=is_tls(request, c)
    )


def clear_cookie(response: Response, request: Request, c: Container, name: str = COOKIE) -> None:
    response.delete_cookie(name, path=PATH, httponly=True, samesite="strict", secure=is_tls(request, c))


def sign_in_url(request: Request) -> str:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"{PATH}/sign-in?next={quote(here, safe='')}" if request.method == "GET" else f"{PATH}/sign-in"


def safe_next(value: str | None) -> str | None:
    """A post-sign-in destination, only when it is a console path of this site (no open redirect)."""
    if not value or not value.startswith(PATH + "/") or value.startswith("//") or "\\" in value:
        return None
    if any(ch in value for ch in "\r\n\t"):
        return None
    return value


async def current_user(request: Request) -> ConsoleUser:
    """The signed-in user of this request (``SignInRequired`` when there is none or it ended)."""
    c: Container = request.app.state.container
    token = request.cookies.get(COOKIE)
    if not token:
        raise SignInRequired("sign in to use the console")
    found = await c.db.read_async(lambda uow: console_sessions.resolve(uow, token, lifetimes(c)))
    if found is None:
        raise SignInRequired("your session has ended: sign in again")
    session = found.session
    cached = c.actors.get(session.key_hash)
    try:
        if cached is not None:
            actor, org = cached
        else:
            actor, org = await c.actors.fetch(session.key_hash, lambda: run_in_threadpool(_actor, c, session))
    except Unauthenticated:  # the key was revoked, expired or disabled: so is every session opened with it
        await run_in_threadpool(_end, c, token)
        raise SignInRequired("the API key of this session is no longer valid: sign in again") from None
    if found.touch_due:
        await run_in_threadpool(_touch, c, session)
    return ConsoleUser(actor, org, session)


def _actor(c: Container, session: ConsoleSession) -> tuple[Actor, Org]:
    with c.db.read() as uow:
        return console_sessions.actor_of(uow, session)


def _end(c: Container, token: str) -> None:
    with c.db.write() as uow:
        console_sessions.sign_out(uow, token)


def _touch(c: Container, session: ConsoleSession) -> None:
    try:
        with c.db.write() as uow:
            console_sessions.touch(uow, session)
    except Unavailable:
        pass  # bookkeeping: a database that cannot be written must not fail a read


async def org_user(request: Request, org: str) -> ConsoleUser:
    """The signed-in user, provided the path's org is the user's (any other org is a 404, as in the API)."""
    user = await current_user(request)
    if org not in (user.org.slug, user.org.id):
        raise NotFound(f"org {org!r} not found")
    return user


User = Annotated[ConsoleUser, Depends(org_user)]


def same_origin(request: Request) -> bool:
    """Whether a state-changing request comes from this site's own pages (``Origin``, else Fetch metadata)."""
    origin = request.headers.get("origin")
    if origin is not None:
        host = request.headers.get("host", "")
        return origin in (f"http://{host}", f"https://{host}")
    site = request.headers.get("sec-fetch-site")
    return site is None or site in ("same-origin", "none")


async def read_form(request: Request) -> FormData:
    """The form (the app's body limit bounds it; a field is at most ``MAX_FORM_BYTES``)."""
    return await request.form(max_files=0, max_fields=200, max_part_size=MAX_FORM_BYTES)


async def checked_form(request: Request, user: ConsoleUser) -> FormData:
    """A POSTed form of ``user``'s session: refused (403) from another site or without the session's token."""
    if not same_origin(request):
        raise Forbidden("this form was sent from another site")
    form = await read_form(request)
    csrf = form.get("csrf")
    if not console_sessions.csrf_ok(user.session, csrf if isinstance(csrf, str) else None):
        raise Forbidden("the form's CSRF token is missing or wrong: reload the page and try again")
    return form


def new_sign_in_token() -> str:
    return secrets.token_urlsafe(24)
