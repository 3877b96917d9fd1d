"""Console sessions: an API key exchanged for a browser session, and the session resolved back to it.

The cookie carries a random token; the database keeps its SHA-256 only (a copied table signs nobody
in). A session acts as the key it was opened with: it stores the key's own secret hash, so resolving a
session goes through the same key checks as an API request (:func:`keys.authenticate_hash`), and a
revoked, expired or disabled key ends every session opened with it. A session also ends after
``idle_s`` without a request and ``max_s`` after sign-in, whichever comes first.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from policyhub.domain.canonical import now, utc
from policyhub.domain.records import Actor, Org
from policyhub.errors import Unauthenticated
from policyhub.services import keys
from policyhub.services.authz import refuse_agent
from policyhub.storage.repositories.console_sessions import ConsoleSession
from policyhub.storage.unit_of_work import UnitOfWork

#: How often a session's ``last_seen_at`` is written (the idle expiry is this coarse, and a page view is
#: a read, not a write, most of the time).
TOUCH_INTERVAL_S = 60.0
MAX_TOKEN_CHARS = 128


@dataclass(frozen=True)
class Lifetimes:
    idle_s: int
    max_s: int


@dataclass(frozen=True)
class Opened:
    """A new session: the cookie's token (given to the browser once, never stored) and its record."""

    token: str
    session: ConsoleSession
    actor: Actor
    org: Org


def session_id(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def sign_in(uow: UnitOfWork, api_key: str, lifetimes: Lifetimes) -> Opened:
    """Check ``api_key`` as an API request would, and open a session acting as it."""
    api_key = api_key.strip()
    if not api_key or len(api_key) > 512 or not api_key.isprintable():
        raise Unauthenticated("invalid API key")
    key_hash = keys.hash_token(api_key)
    actor, org, _ = keys.authenticate_hash(uow, key_hash)
    refuse_agent(actor)  # an agent key reads bundles and reports, nothing a person does in the console
    assert actor.key_id is not None
    at = now()
    uow.console_sessions.delete_expired(at)
    token = secrets.token_urlsafe(32)
    session = ConsoleSession(
        id=session_id(token),
        org_id=org.id,
        key_id=actor.key_id,
        key_hash=key_hash,
        csrf_token=secrets.token_urlsafe(32),
        created_at=at,
        last_seen_at=at,
        expires_at=at + timedelta(seconds=lifetimes.max_s),
    )
    uow.console_sessions.insert(session)
    return Opened(token, session, actor, org)


@dataclass(frozen=True)
class Resolved:
    session: ConsoleSession
    touch_due: bool


def resolve(uow: UnitOfWork, token: str, lifetimes: Lifetimes, at: datetime | None = None) -> Resolved | None:
    """The live session the cookie's token names (None: unknown, idle too long, or past its expiry)."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        return None
    found = uow.console_sessions.get(session_id(token))
    if found is None:
        return None
    at = at or now()
    if utc(found.expires_at) <= at or utc(found.last_seen_at) + timedelta(seconds=lifetimes.idle_s) <= at:
        return None
    due = at - utc(found.last_seen_at) > timedelta(seconds=TOUCH_INTERVAL_S)
    return Resolved(found, due)


def actor_of(uow: UnitOfWork, session: ConsoleSession) -> tuple[Actor, Org]:
    """The key's actor, checked as every API request's is (Unauthenticated once the key is revoked)."""
    actor, org, _ = keys.authenticate_hash(uow, session.key_hash)
    return actor, org


def touch(uow: UnitOfWork, session: ConsoleSession) -> None:
    uow.console_sessions.touch(session.id, now())


def sign_out(uow: UnitOfWork, token: str) -> None:
    uow.console_sessions.delete(session_id(token))


def csrf_ok(session: ConsoleSession, presented: str | None) -> bool:
    """Whether a form carried this session's CSRF token (compared in constant time)."""
    if not presented:
        return False
    return hmac.compare_digest(presented.encode("utf-8", "surrogatepass"), session.csrf_token.encode())
