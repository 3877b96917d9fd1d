"""API keys, looked up by the hash of the presented token."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection, Row

from policyhub.domain.records import ApiKey, Org, Role
from policyhub.storage.tables import api_keys, orgs, principals, scopes


def _key(row: Row[Any]) -> ApiKey:
    return ApiKey(
        id=row.id,
        org_id=row.org_id,
        principal_id=row.principal_id,
        name=row.name,
        prefix=row.prefix,
        role=Role(row.role),
        scope_id=row.scope_id,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


_BY_HASH = (
    select(
        api_keys,
        principals.c.display_name,
        principals.c.email,
        principals.c.disabled,
        scopes.c.path.label("scope_path"),
        orgs.c.slug.label("org_slug"),
        orgs.c.name.label("org_name"),
        orgs.c.settings.label("org_settings"),
        orgs.c.created_at.label("org_created_at"),
    )
    .join(principals, principals.c.id == api_keys.c.principal_id)
    .join(orgs, orgs.c.id == api_keys.c.org_id)
    .outerjoin(scopes, scopes.c.id == api_keys.c.scope_id)
)


_BY_HASH_PARAM = _BY_HASH.where(api_keys.c.secret_hash == bindparam("b_hash"))


class KeyRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def insert(self, key: ApiKey, secret_hash: str) -> None:
        self.conn.execute(
            api_keys.insert().values(
                id=key.id,
                org_id=key.org_id,
                principal_id=key.principal_id,
                name=key.name,
                prefix=key.prefix,
                secret_hash=secret_hash,
                role=key.role.value,
                scope_id=key.scope_id,
                created_at=key.created_at,
                expires_at=key.expires_at,
                revoked_at=None,
                last_used_at=None,
            )
        )

    def by_hash(self, secret_hash: str) -> tuple[ApiKey, dict[str, Any]] | None:
        """The key with this secret hash, plus its principal's name/email and its scope path."""
        row = self.conn.execute(_BY_HASH_PARAM, {"b_hash": secret_hash}).first()
        if row is None:
            return None
        extra = {
            "display_name": row.display_name,
            "email": row.email,
            "principal_disabled": bool(row.disabled),
            "scope_path": row.scope_path,
            "org": Org(
                id=row.org_id,
                slug=row.org_slug,
                name=row.org_name,
                settings=dict(row.org_settings or {}),
                created_at=row.org_created_at,
            ),
        }
        return _key(row), extra

    def exists_hash(self, secret_hash: str) -> bool:
        return self.conn.execute(select(api_keys.c.id).where(api_keys.c.secret_hash == secret_hash)).first() is not None

    def get(self, org_id: str, key_id: str) -> ApiKey | None:
        row = self.conn.execute(select(api_keys).where(api_keys.c.org_id == org_id, api_keys.c.id == key_id)).first()
        return _key(row) if row else None

    def list(self, org_id: str) -> list[ApiKey]:
        stmt = select(api_keys).where(api_keys.c.org_id == org_id).order_by(api_keys.c.created_at, api_keys.c.id)
        return [_key(r) for r in self.conn.execute(stmt)]

    def revoke(self, org_id: str, key_id: str, at: datetime) -> None:
        self.conn.execute(
            update(api_keys).where(api_keys.c.org_id == org_id, api_keys.c.id == key_id).values(revoked_at=at)
        )

    def touch(self, key_id: str, at: datetime) -> None:
        self.conn.execute(update(api_keys).where(api_keys.c.id == key_id).values(last_used_at=at))
