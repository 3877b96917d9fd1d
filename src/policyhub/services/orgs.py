"""Orgs: creation (with a first admin), settings, and the idempotent start-up bootstrap."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from policyhub.domain import names
from policyhub.domain.canonical import now
from policyhub.domain.records import Actor, Org, Role
from policyhub.errors import Conflict, InvalidInput
from policyhub.services import audit
from policyhub.services.authz import require_org_admin
from policyhub.services.keys import _issue, _principal, hash_token
from policyhub.storage.db import Database
from policyhub.storage.unit_of_work import UnitOfWork

SETTINGS = {"require_if_match": bool}
SYSTEM_PRINCIPAL = "system"


@dataclass(frozen=True)
class NewOrg:
    org: Org
    admin_token: str | None  # None when the bootstrap token was supplied by the operator


def create_org(
    uow: UnitOfWork, slug: str, *, name: str | None = None, admin_token: str | None = None, admin_name: str = "admin"
) -> NewOrg:
    """Create an org with an admin service account and key (the token is returned once)."""
    slug = names.org_slug(slug)
    if uow.orgs.by_slug(slug) is not None:
        raise Conflict(f"org {slug!r} already exists")
    at = now()
    org = Org(id=str(uuid.uuid4()), slug=slug, name=name or slug, settings={}, created_at=at)
    uow.orgs.insert(org_id=org.id, slug=slug, name=org.name, settings={}, at=at)
    principal = _principal(org.id, "service_account", admin_name, None)
    uow.principals.insert(principal)
    issued = _issue(uow, org.id, principal.id, Role.ADMIN.value, None, "bootstrap admin", None, admin_token)
    system = Actor(org_id=org.id, principal_id=SYSTEM_PRINCIPAL, name=SYSTEM_PRINCIPAL, role=Role.ADMIN)
    audit.lock_org(uow, org.id)
    audit.record(uow, system, object_kind="org", object_id=org.id, type="org_created", data={"slug": slug})
    audit.record(
        uow,
        system,
        object_kind="api_key",
        object_id=issued.key.id,
        type="key_created",
        data={"principal_id": principal.id, "role": "admin", "scope": None, "prefix": issued.key.prefix},
    )
    return NewOrg(org, None if admin_token else issued.token)


def bootstrap(db: Database, slug: str | None, token: str | None) -> NewOrg | None:
    """Ensure the start-up org (and its admin key) exist; a no-op when they do. Safe across replicas.

    With no org configured, a ``default`` org is created only when the database has no org at all.
    """
    for _ in range(3):
        try:
            with db.write() as uow:
                existing = uow.orgs.list()
                target = slug or ("default" if not existing else None)
                if target is None:
                    return None
                org = uow.orgs.by_slug(target)
                if org is None:
                    return create_org(uow, target, admin_token=token)
                if token and not uow.keys.exists_hash(hash_token(token)):
                    raise InvalidInput.field(
                        "POLICYHUB_BOOTSTRAP_TOKEN",
                        f"org {target!r} exists and this token is not one of its keys; "
                        "issue keys with `policyhub keys create` instead",
                    )
                return None
        except (IntegrityError, Conflict):
            continue  # another replica bootstrapped at the same moment; look again
    return None


def update_settings(uow: UnitOfWork, actor: Actor, org: Org, changes: dict[str, Any]) -> Org:
    require_org_admin(actor)
    audit.lock_org(uow, org.id)
    settings = dict(org.settings)
    diff: dict[str, Any] = {}
    for key, value in changes.items():
        expected = SETTINGS.get(key)
        if expected is None:
            raise InvalidInput.field(f"settings.{key}", "unknown setting")
        if not isinstance(value, expected):
            raise InvalidInput.field(f"settings.{key}", f"must be a {expected.__name__}")
        if settings.get(key) != value:
            diff[key] = {"before": settings.get(key), "after": value}
            settings[key] = value
    if diff:
        uow.orgs.update_settings(org.id, settings)
        audit.record(uow, actor, object_kind="org", object_id=org.id, type="settings_update", data={"changes": diff})
    updated = uow.orgs.get(org.id)
    assert updated is not None
    return updated
