"""A change of a policy written as a whole: the row (compare-and-set on ``revision``, or inserted when the
change creates the policy), its new version if any, its audit events and the org's chain head. Every
policy change is written here, whatever the command (create, replace, patch, archive, unarchive, rollback).

On PostgreSQL it is one statement (data-modifying CTEs: the inserts and the chain update read the
UPDATE's ``RETURNING``, so they write nothing when the compare-and-set fails): one round trip instead of
four, for the write that every PATCH and PUT makes while it holds the org's lock. SQLite, which has no
round trips, runs the same statements one by one, the UPDATE first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, Column, bindparam, text
from sqlalchemy.engine import Connection

from policyhub.domain.records import Event, Policy, Version
from policyhub.storage.prepared import Prepared
from policyhub.storage.repositories.events import EVENT_KEYS, EventRepository, event_columns
from policyhub.storage.repositories.orgs import OrgRepository
from policyhub.storage.repositories.policies import (
    INSERT_ONLY_KEYS,
    VERSION_KEYS,
    WRITE_KEYS,
    PolicyRepository,
    insert_columns,
    version_columns,
    write_columns,
)
from policyhub.storage.tables import events, orgs, policies, policy_versions


def _values(prefix: str, table: Any, keys: Sequence[str]) -> tuple[list[str], list[Any]]:
    """Placeholders ``:<prefix><column>`` for ``keys``, and their bind parameters, typed as the columns are
    (so values convert as in any other statement, and psycopg's dialect casts each to its column's type)."""
    columns: list[Column[Any]] = [table.c[key] for key in keys]
    return [f":{prefix}{c.name}" for c in columns], [bindparam(prefix + c.name, type_=c.type) for c in columns]


#: The columns a change that creates its policy inserts.
INSERT_KEYS = (*INSERT_ONLY_KEYS, *WRITE_KEYS)


def _statement(creates: bool, with_version: bool, event_count: int) -> Prepared:
    """The one PostgreSQL statement for a change that updates (or ``creates``) its policy, with (or without)
    a version and ``event_count`` events. ``upd`` is the policy's row: nothing else is written without it."""
    if creates:
        values, binds = _values("p_", policies, INSERT_KEYS)
        parts = [f"upd AS (INSERT INTO policies ({', '.join(INSERT_KEYS)}) VALUES ({', '.join(values)}) RETURNING id)"]
    else:
        sets, binds = _values("p_", policies, WRITE_KEYS)
        where, where_binds = _values("b_", policies, ("id", "org_id", "revision"))
        assignments = ", ".join(f"{key} = {value}" for key, value in zip(WRITE_KEYS, sets, strict=True))
        parts = [
            f"upd AS (UPDATE policies SET {assignments} WHERE id = {where[0]} AND org_id = {where[1]} "
            f"AND revision = {where[2]} RETURNING id)"
        ]
        binds += where_binds
    if with_version:
        values, version_binds = _values("v_", policy_versions, VERSION_KEYS)
        parts.append(
            f"ver AS (INSERT INTO policy_versions ({', '.join(VERSION_KEYS)}) SELECT {', '.join(values)} FROM upd)"
        )
        binds += version_binds
    rows = []
    for i in range(event_count):
        values, event_binds = _values(f"e{i}_", events, EVENT_KEYS)
        rows.append(f"SELECT {', '.join(values)} FROM upd")
        binds += event_binds
    parts.append(f"ev AS (INSERT INTO events ({', '.join(EVENT_KEYS)}) {' UNION ALL '.join(rows)})")
    head, head_binds = _values("c_", orgs, ("id", "chain_seq", "chain_head"))
    parts.append(
        f"chain AS (UPDATE orgs SET chain_seq = {head[1]}, chain_head = {head[2]} "
        f"WHERE id = {head[0]} AND EXISTS (SELECT 1 FROM upd))"
    )
    binds += head_binds
    sql = "WITH " + ", ".join(parts) + " SELECT count(*) AS written FROM upd"
    return Prepared(text(sql).bindparams(*binds).columns(written=BigInteger()))


_STATEMENTS: dict[tuple[bool, bool, int], Prepared] = {}


class PolicyChangeRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def write(
        self, updated: Policy, expected_revision: int | None, version: Version | None, events: Sequence[Event]
    ) -> bool:
        """Write the change; False, with nothing written, when the row is no longer at ``expected_revision``.

        ``expected_revision`` None: the change creates the policy (its row is inserted). ``events`` are the
        change's audit events in chain order (at least one): the org's chain head moves to the last of them.
        """
        if not events:
            raise ValueError("a change records at least one event")
        if self.conn.dialect.name != "postgresql":
            return self._one_by_one(updated, expected_revision, version, events)
        creates = expected_revision is None
        key = (creates, version is not None, len(events))
        statement = _STATEMENTS.get(key)
        if statement is None:
            statement = _STATEMENTS[key] = _statement(*key)
        columns = insert_columns(updated) if creates else write_columns(updated)
        params: dict[str, object] = {"p_" + k: v for k, v in columns.items()}
        if not creates:
            params.update(b_id=updated.id, b_org_id=updated.org_id, b_revision=expected_revision)
        if version is not None:
            params.update({"v_" + k: v for k, v in version_columns(updated.org_id, version).items()})
        for i, event in enumerate(events):
            params.update({f"e{i}_{k}": v for k, v in event_columns(event).items()})
        params.update(c_id=updated.org_id, c_chain_seq=events[-1].seq, c_chain_head=events[-1].hash)
        row = statement.first(self.conn, params)
        return row is not None and int(row.written) == 1

    def _one_by_one(
        self, updated: Policy, expected_revision: int | None, version: Version | None, events: Sequence[Event]
    ) -> bool:
        if expected_revision is None:
            PolicyRepository(self.conn).insert(updated)
        elif not PolicyRepository(self.conn).update(updated, expected_revision):
            return False
        if version is not None:
            PolicyRepository(self.conn).insert_version(updated.org_id, version)
        log = EventRepository(self.conn)
        for event in events:
            log.append(event)
        OrgRepository(self.conn).advance_chain(updated.org_id, events[-1].seq, events[-1].hash)
        return True
