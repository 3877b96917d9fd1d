"""API keys and principals: issue, authenticate, list, revoke. Secrets are stored only as SHA-256."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from policyhub.domain import names
from policyhub.domain.canonical import now, utc
from policyhub.domain.records import Actor, ApiKey, Org, Principal, Role
from policyhub.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from policyhub.services import audit
from policyhub.services.authz import require_org_admin
from policyhub.storage.unit_of_work import UnitOfWork

TOKEN_PREFIX = "phk_"
PRINCIPAL_KINDS = ("user", "service_account")


def new_token() -> str:
    """A fresh key: recognisable prefix + 256 random bits."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    token: str  # shown once, never stored


def authenticate(uow: UnitOfWork, token: str, touch_interval_s: float = 60.0) -> tuple[Actor, Org, bool]:
    """The actor a token stands for, its org, and whether its ``last_used_at`` is due to be touched."""
    return authenticate_hash(uow, hash_token(token), touch_interval_s)


def authenticate_hash(uow: UnitOfWork, token_hash: str, touch_interval_s: float = 60.0) -> tuple[Actor, Org, bool]:
    """:func:`authenticate` by the token's hash (a console session keeps the hash of the key it acts as)."""
    found = uow.keys.by_hash(token_hash)
    if found is None:
        raise Unauthenticated("invalid API key")
    key, extra = found
    at = now()
    if key.revoked_at is not None:
        raise Unauthenticated("invalid API key")
    if key.expires_at is not None and utc(key.expires_at) <= at:
        raise Unauthenticated("invalid API key")
    if extra["principal_disabled"]:
        raise Unauthenticated("invalid API key")
    actor = Actor(
        org_id=key.org_id,
        principal_id=key.principal_id,
        name=extra["display_name"],
        role=key.role,
        scope_path=extra["scope_path"],
        key_id=key.id,
        email=extra["email"],
    )
    due = key.last_used_at is None or (at - utc(key.last_used_at)) > timedelta(seconds=touch_interval_s)
    return actor, extra["org"], due


def create_principal(
    uow: UnitOfWork,
    actor: Actor,
    *,
    kind: str,
    display_name: str,
    email: str | None = None,
) -> Principal:
    require_org_admin(actor)
    audit.lock_org(uow, actor.org_id)
    principal = _principal(actor.org_id, kind, display_name, email)
    uow.principals.insert(principal)
    audit.record(
        uow,
        actor,
        object_kind="principal",
        object_id=principal.id,
        type="principal_created",
        data={"kind": kind, "display_name": principal.display_name},
    )
    return principal


def _principal(org_id: str, kind: str, display_name: str, email: str | None) -> Principal:
    if kind not in PRINCIPAL_KINDS:
        raise InvalidInput.field("kind", f"must be one of {', '.join(PRINCIPAL_KINDS)}")
    display_name = names.check_text("display_name", display_name, max_len=200)
    if not display_name.strip():
        raise InvalidInput.field("display_name", "must not be empty")
    if email is not None:
        email = names.check_text("email", email, max_len=320)
        if "@" not in email or email.startswith("@") or email.endswith("@"):
            raise InvalidInput.field("email", "must be an email address")
    return Principal(
        id=str(uuid.uuid4()), org_id=org_id, kind=kind, display_name=display_name, email=email, created_at=now()
    )


def issue_key(
    uow: UnitOfWork,
    actor: Actor,
    *,
    principal_id: str,
    role: str,
    scope: str | None = None,
    name: str = "",
    expires_at: datetime | None = None,
    token: str | None = None,
) -> IssuedKey:
    """Issue a key for a principal; only org admins may. The token is returned once."""
    require_org_admin(actor)
    audit.lock_org(uow, actor.org_id)
    if uow.principals.get(actor.org_id, principal_id) is None:
        raise InvalidInput.field("principal_id", "no such principal in this organization")
    issued = _issue(uow, actor.org_id, principal_id, role, scope, name, expires_at, token)
    audit.record(
        uow,
        actor,
        object_kind="api_key",
        object_id=issued.key.id,
        type="key_created",
        data={"principal_id": principal_id, "role": issued.key.role.value, "scope": scope, "prefix": issued.key.prefix},
    )
    return issued


def _issue(
    uow: UnitOfWork,
    org_id: str,
    principal_id: str,
    role: str,
    scope: str | None,
    name: str,
    expires_at: datetime | None,
    token: str | None,
) -> IssuedKey:
    try:
        role_value = Role(role)
    except ValueError:
        raise InvalidInput.field("role", "must be one of viewer, editor, admin, agent") from None
    scope_id = None
    if scope not in (None, "", "/"):
        found = uow.scopes.by_path(org_id, (scope or "").strip("/"))
        if found is None:
            raise InvalidInput.field("scope", f"no scope {scope!r} in this organization")
        scope_id = found.id
    if expires_at is not None and utc(expires_at) <= now():
        raise InvalidInput.field("expires_at", "must be in the future")
    token = token or new_token()
    key = ApiKey(
        id=str(uuid.uuid4()),
        org_id=org_id,
        principal_id=principal_id,
        name=names.check_text("name", name, max_len=200),
        prefix=token[:12],
        role=role_value,
        scope_id=scope_id,
        created_at=now(),
        expires_at=expires_at,
        revoked_at=None,
        last_used_at=None,
    )
    uow.keys.insert(key, hash_token(token))
    return IssuedKey(key, token)


class LastAdminKey(Conflict):
    """Revoking this key would leave the org without an active admin key at the org level (409)."""


def revoke_key(
    uow: UnitOfWork, actor: Actor, key_id: str, *, allow_last_admin: bool = False
) -> tuple[ApiKey, str | None]:
    """Revoke a key (admin; idempotent); returns it as :func:`get_key` does.

    The org's last active admin key at the org level is refused (:class:`LastAdminKey`): without one,
    nobody could issue or revoke the org's keys through the API. Only an operator working on the
    database (``policyhub keys revoke --force``) passes ``allow_last_admin``; the same operator can
    always issue a new admin key (``policyhub keys create --role admin``). The org's lock, taken
    first, orders concurrent revocations, so two of them cannot each remove "the other" last key.
    """
    require_org_admin(actor)
    audit.lock_org(uow, actor.org_id)
    key = uow.keys.get(actor.org_id, key_id)
    if key is None:
        raise NotFound(f"API key {key_id!r} not found")
    if key.revoked_at is None and not allow_last_admin and _is_last_org_admin(uow, key):
        raise LastAdminKey(
            f"API key {key_id!r} ({key.prefix}...) is the last active admin key of the org at the org level: "
            "revoking it would leave nobody able to manage the org's keys; issue another admin key first"
        )
    if key.revoked_at is None:
        uow.keys.revoke(actor.org_id, key_id, now())
        uow.console_sessions.delete_for_key(actor.org_id, key_id)  # the key's console sign-ins end with it
        audit.record(
            uow, actor, object_kind="api_key", object_id=key_id, type="key_revoked", data={"prefix": key.prefix}
        )
    return get_key(uow, actor, key_id)


def _is_last_org_admin(uow: UnitOfWork, key: ApiKey) -> bool:
    """Whether ``key`` is an active admin key at the org level and no other active one exists."""
    at = now()
    disabled = {p.id for p in uow.principals.list(key.org_id) if p.disabled}

    def active_org_admin(k: ApiKey) -> bool:
        return (
            k.role is Role.ADMIN
            and k.scope_id is None
            and k.revoked_at is None
            and (k.expires_at is None or utc(k.expires_at) > at)
            and k.principal_id not in disabled
        )

    if not active_org_admin(key):
        return False
    return not any(k.id != key.id and active_org_admin(k) for k in uow.keys.list(key.org_id))


def principal_names(uow: UnitOfWork, org_id: str, ids: Iterable[str]) -> dict[str, Principal]:
    """The org's principals with these ids (faces show names where the core keeps ids)."""
    return uow.principals.names(org_id, set(ids))


def list_keys(uow: UnitOfWork, actor: Actor) -> list[tuple[ApiKey, str | None]]:
    """Every key of the org with the path of the scope its role is bound at (admin; never secrets)."""
    require_org_admin(actor)
    paths = {s.id: s.path for s in uow.scopes.list(actor.org_id)}
    return [(k, paths.get(k.scope_id or "")) for k in uow.keys.list(actor.org_id)]


def get_key(uow: UnitOfWork, actor: Actor, key_id: str) -> tuple[ApiKey, str | None]:
    require_org_admin(actor)
    key = uow.keys.get(actor.org_id, key_id)
    if key is None:
        raise NotFound(f"API key {key_id!r} not found")
    scope = uow.scopes.get(actor.org_id, key.scope_id) if key.scope_id else None
    return key, scope.path if scope else None


def list_principals(uow: UnitOfWork, actor: Actor) -> list[Principal]:
    require_org_admin(actor)
    return uow.principals.list(actor.org_id)
