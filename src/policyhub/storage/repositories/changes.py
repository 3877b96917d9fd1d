"""A change of a policy written as a whole: the row (compare-and-set on ``revision``), its new version if
any, its audit events and the org's chain head.

On PostgreSQL it is one statement (data-modifying CTEs: the inserts and the chain update read the
UPDATE's ``RETURNING``, so they write nothing when the compare-and-set fails): one round trip instead of
four, for the write that every PATCH and PUT makes while it holds the org's lock. SQLite, which has no
round trips, runs the same statements one by one, the UPDATE first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Integer, Text, bindparam, text
from sqlalchemy.engine import Connection

from policyhub.domain.records import Event, Policy, Version
from policyhub.storage.prepared import Prepared
from policyhub.storage.repositories.events import EventRepository
from policyhub.storage.repositories.orgs import OrgRepository
from policyhub.storage.repositories.policies import PolicyRepository, _columns

_TS = DateTime(timezone=True)
_POLICY_TYPES: dict[str, Any] = {
    "scope_id": Text(), "name": Text(), "description": Text(), "type": Text(), "spec": JSON(), "source": Text(),
    "enforcement": Text(), "enabled": Boolean(), "labels": JSON(), "attributes": JSON(), "revision": Integer(),
    "version": Integer(), "updated_at": _TS, "updated_by": Text(), "archived": Boolean(), "archived_at": _TS,
}  # fmt: skip
_VERSION_TYPES: dict[str, Any] = {
    "policy_id": Text(), "org_id": Text(), "version": Integer(), "spec": JSON(), "source": Text(),
    "content_hash": Text(), "comment": Text(), "created_at": _TS, "created_by": Text(),
}  # fmt: skip
_EVENT_TYPES: dict[str, Any] = {
    "org_id": Text(), "seq": BigInteger(), "object_kind": Text(), "object_id": Text(), "type": Text(),
    "actor_id": Text(), "actor_name": Text(), "at": _TS, "data": JSON(), "prev_hash": Text(), "hash": Text(),
}  # fmt: skip
_SQL_TYPE = {Text: "TEXT", JSON: "JSON", Boolean: "BOOLEAN", Integer: "INTEGER", BigInteger: "BIGINT"}


def _cast(name: str, kind: object) -> str:
    sql_type = "TIMESTAMPTZ" if isinstance(kind, DateTime) else _SQL_TYPE[type(kind)]
    return f"CAST(:{name} AS {sql_type})"


def _statement(with_version: bool, events: int) -> Prepared:
    """The one PostgreSQL statement for a change with (or without) a version and ``events`` events."""
    sets = ", ".join(f"{column} = {_cast('p_' + column, kind)}" for column, kind in _POLICY_TYPES.items())
    parts = [
        f"upd AS (UPDATE policies SET {sets} WHERE id = :b_id AND org_id = :b_org AND revision = :b_rev RETURNING id)"
    ]
    binds = [bindparam("p_" + column, type_=kind) for column, kind in _POLICY_TYPES.items()]
    binds += [bindparam("b_id", type_=Text()), bindparam("b_org", type_=Text()), bindparam("b_rev", type_=Integer())]
    if with_version:
        values = ", ".join(_cast("v_" + column, kind) for column, kind in _VERSION_TYPES.items())
        parts.append(f"ver AS (INSERT INTO policy_versions ({', '.join(_VERSION_TYPES)}) SELECT {values} FROM upd)")
        binds += [bindparam("v_" + column, type_=kind) for column, kind in _VERSION_TYPES.items()]
    rows = " UNION ALL ".join(
        "SELECT " + ", ".join(_cast(f"e{i}_{column}", kind) for column, kind in _EVENT_TYPES.items()) + " FROM upd"
        for i in range(events)
    )
    parts.append(f"ev AS (INSERT INTO events ({', '.join(_EVENT_TYPES)}) {rows})")
    binds += [bindparam(f"e{i}_{column}", type_=kind) for i in range(events) for column, kind in _EVENT_TYPES.items()]
    parts.append(
        "chain AS (UPDATE orgs SET chain_seq = CAST(:c_seq AS BIGINT), chain_head = CAST(:c_head AS TEXT) "
        "WHERE id = :c_org AND EXISTS (SELECT 1 FROM upd))"
    )
    binds += [
        bindparam("c_seq", type_=BigInteger()),
        bindparam("c_head", type_=Text()),
        bindparam("c_org", type_=Text()),
    ]
    sql = "WITH " + ", ".join(parts) + " SELECT count(*) AS written FROM upd"
    return Prepared(text(sql).bindparams(*binds).columns(written=BigInteger()))


_STATEMENTS: dict[tuple[bool, int], Prepared] = {}


class PolicyChangeRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def write(self, updated: Policy, expected_revision: int, version: Version | None, events: Sequence[Event]) -> bool:
        """Write the change; False, with nothing written, when the row is no longer at ``expected_revision``.

        ``events`` are the change's audit events in chain order (at least one): the org's chain head moves
        to the last of them.
        """
        if not events:
            raise ValueError("a change records at least one event")
        if self.conn.dialect.name != "postgresql":
            return self._one_by_one(updated, expected_revision, version, events)
        key = (version is not None, len(events))
        statement = _STATEMENTS.get(key)
        if statement is None:
            statement = _STATEMENTS[key] = _statement(*key)
        params: dict[str, object] = {"p_" + k: v for k, v in _columns(updated).items()}
        params.update(b_id=updated.id, b_org=updated.org_id, b_rev=expected_revision)
        if version is not None:
            params.update({"v_" + k: v for k, v in _version_row(updated.org_id, version).items()})
        for i, event in enumerate(events):
            params.update({f"e{i}_{k}": v for k, v in _event_row(event).items()})
        params.update(c_seq=events[-1].seq, c_head=events[-1].hash, c_org=updated.org_id)
        row = statement.first(self.conn, params)
        return row is not None and int(row.written) == 1

    def _one_by_one(
        self, updated: Policy, expected_revision: int, version: Version | None, events: Sequence[Event]
    ) -> bool:
        if not PolicyRepository(self.conn).update(updated, expected_revision):
            return False
        if version is not None:
            PolicyRepository(self.conn).insert_version(updated.org_id, version)
        log = EventRepository(self.conn)
        for event in events:
            log.append(event)
        OrgRepository(self.conn).advance_chain(updated.org_id, events[-1].seq, events[-1].hash)
        return True


def _version_row(org_id: str, v: Version) -> dict[str, object]:
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


def _event_row(e: Event) -> dict[str, object]:
    return {
        "org_id": e.org_id,
        "seq": e.seq,
        "object_kind": e.object_kind,
        "object_id": e.object_id,
        "type": e.type,
        "actor_id": e.actor_id,
        "actor_name": e.actor_name,
        "at": e.at,
        "data": e.data,
        "prev_hash": e.prev_hash,
        "hash": e.hash,
    }
