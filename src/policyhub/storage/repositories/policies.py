"""Policies, their immutable versions and the references they make."""

from __future__ import annotations

import builtins
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, or_, select, tuple_, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.sql.elements import ColumnElement

from policyhub.domain.policy_fields import COLUMNS, POLICY_FIELDS
from policyhub.domain.records import Policy, Version
from policyhub.domain.selectors import Requirement
from policyhub.storage.prepared import Prepared
from policyhub.storage.tables import policies, policy_references, policy_versions, principals, scopes

_SELECT = select(policies, scopes.c.path.label("scope_path")).outerjoin(scopes, scopes.c.id == policies.c.scope_id)
#: Columns a write sets (``write_columns``), in column order; an insert also sets ``INSERT_ONLY_KEYS``.
WRITE_KEYS = tuple(f.name for f in COLUMNS if f.column is not None and not f.column.insert_only)
INSERT_ONLY_KEYS = tuple(f.name for f in COLUMNS if f.column is not None and f.column.insert_only)
VERSION_KEYS = (
    "policy_id",
    "org_id",
    "version",
    "spec",
    "source",
    "content_hash",
    "comment",
    "created_at",
    "created_by",
)
# The statements every write runs go straight to the driver (see ``storage.prepared``).
_BY_ID = Prepared(_SELECT.where(policies.c.org_id == bindparam("b_org"), policies.c.id == bindparam("b_id")))
_BY_NAME = Prepared(
    _SELECT.where(
        policies.c.org_id == bindparam("b_org"), policies.c.name == bindparam("b_name"), policies.c.archived.is_(False)
    )
)
_UPDATE = Prepared(
    update(policies).where(
        policies.c.id == bindparam("b_id"),
        policies.c.org_id == bindparam("b_org"),
        policies.c.revision == bindparam("b_rev"),
    ),
    column_keys=WRITE_KEYS,
)
_INSERT = Prepared(policies.insert().inline(), column_keys=(*INSERT_ONLY_KEYS, *WRITE_KEYS))
_INSERT_VERSION = Prepared(policy_versions.insert().inline(), column_keys=VERSION_KEYS)

#: Versions are an INTEGER column: 32 bits on PostgreSQL (SQLite's 64-bit INTEGER holds more).
MAX_VERSION = 2**31 - 1


#: (attribute, conversion) of each field a row holds (``scope_path`` is the joined scope's).
_LOADS = tuple((f.name, f.load) for f in POLICY_FIELDS)
#: (column, conversion) of each column a write sets, and of each an insert sets.
_DUMPS = {f.name: f.dump for f in COLUMNS}
_WRITE_DUMPS = tuple((name, _DUMPS[name]) for name in WRITE_KEYS)
_INSERT_DUMPS = tuple((name, _DUMPS[name]) for name in (*INSERT_ONLY_KEYS, *WRITE_KEYS))


def _policy(row: Row[Any]) -> Policy:
    return Policy(**{name: load(getattr(row, name)) if load else getattr(row, name) for name, load in _LOADS})


def version_columns(org_id: str, v: Version) -> dict[str, Any]:
    """A version's row, by column (``VERSION_KEYS``)."""
    return {
        "policy_id": v.policy_id,
        "org_id": org_id,
        "version": v.version,
        "spec": v.spec,
        "source": v.source,
        "content_hash": v.content_hash,
        "comment": v.comment,
        "created_at": v.created_at,
        "created_by": v.created_by,
    }


def write_columns(p: Policy) -> dict[str, Any]:
    """What a write sets in a policy's row, by column (``WRITE_KEYS``)."""
    return {name: dump(getattr(p, name)) if dump else getattr(p, name) for name, dump in _WRITE_DUMPS}


def insert_columns(p: Policy) -> dict[str, Any]:
    """What inserting a policy sets in its row, by column (``INSERT_ONLY_KEYS``, then ``WRITE_KEYS``)."""
    return {name: dump(getattr(p, name)) if dump else getattr(p, name) for name, dump in _INSERT_DUMPS}


@dataclass(frozen=True)
class PolicyFilter:
    """What ``GET /policies`` may filter on. ``after`` is the keyset cursor (name, id)."""

    type: str | None = None
    scope_path: str | None = None
    scope_paths_visible: tuple[str, ...] | None = None
    labels: tuple[Requirement, ...] = ()
    enabled: bool | None = None
    archived: bool | None = False
    name_prefix: str | None = None
    after: tuple[str, str] | None = None


class PolicyRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- reads -----------------------------------------------------------------------------------
    def get(self, org_id: str, policy_id: str) -> Policy | None:
        row = _BY_ID.first(self.conn, {"b_org": org_id, "b_id": policy_id})
        return _policy(row) if row else None

    def by_name(self, org_id: str, name: str) -> Policy | None:
        """The live (non-archived) policy with this name."""
        row = _BY_NAME.first(self.conn, {"b_org": org_id, "b_name": name})
        return _policy(row) if row else None

    def latest_archived_by_name(self, org_id: str, name: str) -> Policy | None:
        stmt = (
            _SELECT.where(policies.c.org_id == org_id, policies.c.name == name, policies.c.archived.is_(True))
            .order_by(policies.c.archived_at.desc())
            .limit(1)
        )
        row = self.conn.execute(stmt).first()
        return _policy(row) if row else None

    def list(self, org_id: str, flt: PolicyFilter, limit: int) -> list[Policy]:
        stmt = _SELECT.where(policies.c.org_id == org_id)
        if flt.type:
            stmt = stmt.where(policies.c.type == flt.type)
        if flt.scope_path is not None:
            stmt = stmt.where(_under(flt.scope_path))
        if flt.scope_paths_visible is not None:
            stmt = stmt.where(or_(*[_under(p) for p in flt.scope_paths_visible]))
        if flt.enabled is not None:
            stmt = stmt.where(policies.c.enabled.is_(flt.enabled))
        if flt.archived is not None:
            stmt = stmt.where(policies.c.archived.is_(flt.archived))
        if flt.name_prefix:
            stmt = stmt.where(policies.c.name.startswith(flt.name_prefix, autoescape=True))
        for req in flt.labels:
            stmt = stmt.where(_label_clause(req))
        if flt.after:
            stmt = stmt.where(tuple_(policies.c.name, policies.c.id) > tuple_(*flt.after))
        stmt = stmt.order_by(policies.c.name, policies.c.id).limit(limit)
        return [_policy(r) for r in self.conn.execute(stmt)]

    # -- writes ----------------------------------------------------------------------------------
    def live_enabled(self, org_id: str) -> builtins.list[Policy]:
        """The org's policies that can take part in decisions: enabled and not archived."""
        stmt = _SELECT.where(
            policies.c.org_id == org_id, policies.c.archived.is_(False), policies.c.enabled.is_(True)
        ).order_by(policies.c.name)
        return [_policy(r) for r in self.conn.execute(stmt)]

    def live_enabled_at(self, org_id: str, scope_ids: Collection[str]) -> builtins.list[Policy]:
        """:meth:`live_enabled`, only those at the org level or at one of ``scope_ids`` (a rollout bundle's)."""
        at: ColumnElement[bool] = policies.c.scope_id.is_(None)
        if scope_ids:
            at = or_(at, policies.c.scope_id.in_(sorted(scope_ids)))
        stmt = _SELECT.where(
            policies.c.org_id == org_id, policies.c.archived.is_(False), policies.c.enabled.is_(True), at
        ).order_by(policies.c.name)
        return [_policy(r) for r in self.conn.execute(stmt)]

    def all_references(self, org_id: str) -> dict[str, builtins.list[tuple[str, str]]]:
        """Every reference the org's policies make, by policy id."""
        stmt = select(policy_references.c.policy_id, policy_references.c.kind, policy_references.c.ref_id).where(
            policy_references.c.org_id == org_id
        )
        found: dict[str, builtins.list[tuple[str, str]]] = {}
        for row in self.conn.execute(stmt):
            found.setdefault(row.policy_id, []).append((row.kind, row.ref_id))
        return found

    def insert(self, p: Policy) -> None:
        _INSERT.execute(self.conn, insert_columns(p))

    def update(self, p: Policy, expected_revision: int) -> bool:
        """Compare-and-set on ``revision``: False when someone else changed the row first."""
        params = {"b_id": p.id, "b_org": p.org_id, "b_rev": expected_revision, **write_columns(p)}
        return _UPDATE.rowcount(self.conn, params) == 1

    # -- versions --------------------------------------------------------------------------------
    def insert_version(self, org_id: str, v: Version) -> None:
        _INSERT_VERSION.execute(self.conn, version_columns(org_id, v))

    def versions(
        self, org_id: str, policy_id: str, *, after: int = 0, limit: int | None = None
    ) -> builtins.list[Version]:
        """A policy's versions, oldest first: those numbered above ``after``, at most ``limit`` of them."""
        stmt = (
            select(policy_versions, principals.c.display_name)
            .outerjoin(principals, principals.c.id == policy_versions.c.created_by)
            .where(policy_versions.c.org_id == org_id, policy_versions.c.policy_id == policy_id)
            .order_by(policy_versions.c.version)
        )
        if after > 0:
            stmt = stmt.where(policy_versions.c.version > min(after, MAX_VERSION))
        if limit is not None:
            stmt = stmt.limit(limit)
        return [_version(r) for r in self.conn.execute(stmt)]

    def version(self, org_id: str, policy_id: str, number: int) -> Version | None:
        if not 1 <= number <= MAX_VERSION:  # no stored version has it, and the drivers cannot even bind it
            return None
        stmt = (
            select(policy_versions, principals.c.display_name)
            .outerjoin(principals, principals.c.id == policy_versions.c.created_by)
            .where(
                policy_versions.c.org_id == org_id,
                policy_versions.c.policy_id == policy_id,
                policy_versions.c.version == number,
            )
        )
        row = self.conn.execute(stmt).first()
        return _version(row) if row else None

    def stream_all(self, org_id: str, batch: int = 500) -> Iterator[Policy]:
        """Every policy of the org, archived ones too, batch by batch (``audit verify`` checks each)."""
        last_id = ""
        while True:
            stmt = _SELECT.where(policies.c.org_id == org_id, policies.c.id > last_id).order_by(policies.c.id)
            rows = list(self.conn.execute(stmt.limit(batch)))
            if not rows:
                return
            yield from (_policy(r) for r in rows)
            last_id = str(rows[-1].id)

    def stream_versions(self, org_id: str, batch: int = 500) -> Iterator[Version]:
        """Every stored version of the org's policies, batch by batch (``audit verify`` checks each)."""
        last_id = -1
        while True:
            stmt = (
                select(policy_versions, principals.c.display_name)
                .outerjoin(principals, principals.c.id == policy_versions.c.created_by)
                .where(policy_versions.c.org_id == org_id, policy_versions.c.id > last_id)
                .order_by(policy_versions.c.id)
                .limit(batch)
            )
            rows = list(self.conn.execute(stmt))
            if not rows:
                return
            yield from (_version(r) for r in rows)
            last_id = int(rows[-1].id)

    # -- references ------------------------------------------------------------------------------
    def set_references(self, org_id: str, policy_id: str, refs: tuple[tuple[str, str], ...]) -> None:
        self.conn.execute(delete(policy_references).where(policy_references.c.policy_id == policy_id))
        if refs:
            self.conn.execute(
                policy_references.insert(),
                [{"policy_id": policy_id, "org_id": org_id, "kind": k, "ref_id": r} for k, r in sorted(set(refs))],
            )

    def referencing(self, org_id: str, kind: str, ref_id: str) -> builtins.list[str]:
        """Names of live policies that refer to the object."""
        stmt = (
            select(policies.c.name)
            .join(policy_references, policy_references.c.policy_id == policies.c.id)
            .where(
                policy_references.c.org_id == org_id,
                policy_references.c.kind == kind,
                policy_references.c.ref_id == ref_id,
                policies.c.archived.is_(False),
            )
            .order_by(policies.c.name)
        )
        return [r.name for r in self.conn.execute(stmt)]


def _version(row: Row[Any]) -> Version:
    return Version(
        policy_id=row.policy_id,
        version=row.version,
        spec=row.spec,
        source=row.source,
        content_hash=row.content_hash,
        comment=row.comment,
        created_at=row.created_at,
        created_by=row.created_by,
        created_by_name=row.display_name or row.created_by,
    )


def _under(path: str) -> Any:
    return or_(scopes.c.path == path, scopes.c.path.startswith(path + "/", autoescape=True))


def _label_clause(req: Requirement) -> Any:
    value = policies.c.labels[req.key].as_string()
    if req.op == "exists":
        return value.is_not(None)
    if req.op == "!exists":
        return value.is_(None)
    if req.op == "=":
        return value == req.values[0]
    if req.op == "!=":
        return or_(value.is_(None), value != req.values[0])
    if req.op == "in":
        return value.in_(req.values)
    if req.op == "notin":
        return or_(value.is_(None), value.not_in(req.values))
    raise ValueError(req.op)
