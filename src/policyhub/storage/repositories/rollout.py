"""Rollout environments, the agents that report on them, and where the org's decision-relevant changes are."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Row

from policyhub.domain.canonical import utc
from policyhub.storage.tables import events, rollout_agents, rollout_environments

#: Audit event kinds that change nothing an agent decides with (keys, principals, the org's settings).
NOT_DECISION_RELEVANT = ("org", "api_key", "principal")


@dataclass(frozen=True)
class Environment:
    id: str
    org_id: str
    name: str
    scopes: list[str]
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str


@dataclass(frozen=True)
class AgentReport:
    """What an agent last reported; ``revision_at``: when it first reported that revision."""

    org_id: str
    name: str
    environment: str
    revision: int
    revision_at: datetime
    address: str | None
    last_error: str | None
    counts: dict[str, Any]
    stale_s: float | None
    first_seen: datetime
    last_seen: datetime


def _environment(row: Row[Any]) -> Environment:
    return Environment(
        id=row.id,
        org_id=row.org_id,
        name=row.name,
        scopes=list(row.scopes or []),
        created_at=utc(row.created_at),
        created_by=row.created_by,
        updated_at=utc(row.updated_at),
        updated_by=row.updated_by,
    )


def _agent(row: Row[Any]) -> AgentReport:
    return AgentReport(
        org_id=row.org_id,
        name=row.name,
        environment=row.environment,
        revision=int(row.revision),
        revision_at=utc(row.revision_at),
        address=row.address,
        last_error=row.last_error,
        counts=dict(row.counts or {}),
        stale_s=row.stale_s,
        first_seen=utc(row.first_seen),
        last_seen=utc(row.last_seen),
    )


class RolloutRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- environments ---------------------------------------------------------------------------------

    def environment(self, org_id: str, name: str) -> Environment | None:
        row = self.conn.execute(
            select(rollout_environments).where(
                rollout_environments.c.org_id == org_id, rollout_environments.c.name == name
            )
        ).first()
        return _environment(row) if row else None

    def environments(self, org_id: str) -> builtins.list[Environment]:
        stmt = (
            select(rollout_environments)
            .where(rollout_environments.c.org_id == org_id)
            .order_by(rollout_environments.c.name)
        )
        return [_environment(r) for r in self.conn.execute(stmt)]

    def insert_environment(self, env: Environment) -> None:
        self.conn.execute(rollout_environments.insert().values(**env.__dict__))

    def update_environment(self, env: Environment) -> None:
        self.conn.execute(
            update(rollout_environments)
            .where(rollout_environments.c.org_id == env.org_id, rollout_environments.c.id == env.id)
            .values(scopes=env.scopes, updated_at=env.updated_at, updated_by=env.updated_by)
        )

    def delete_environment(self, org_id: str, env_id: str) -> None:
        self.conn.execute(
            delete(rollout_environments).where(
                rollout_environments.c.org_id == org_id, rollout_environments.c.id == env_id
            )
        )

    # -- agents ---------------------------------------------------------------------------------------

    def report(self, report: AgentReport) -> None:
        """Upsert an agent's report; ``revision_at`` moves only when the revision does (one statement, so
        two reports racing on PostgreSQL cannot both insert)."""
        values = dict(report.__dict__)
        insert = (sqlite_insert if self.conn.dialect.name == "sqlite" else pg_insert)(rollout_agents).values(**values)
        kept = rollout_agents.c
        stmt = insert.on_conflict_do_update(
            index_elements=[kept.org_id, kept.name],
            set_={
                "environment": insert.excluded.environment,
                "revision": insert.excluded.revision,
                "revision_at": case(
                    (kept.revision == insert.excluded.revision, kept.revision_at), else_=insert.excluded.revision_at
                ),
                "address": insert.excluded.address,
                "last_error": insert.excluded.last_error,
                "counts": insert.excluded.counts,
                "stale_s": insert.excluded.stale_s,
                "last_seen": insert.excluded.last_seen,
            },
        )
        self.conn.execute(stmt)

    def agents(self, org_id: str, environment: str | None = None) -> builtins.list[AgentReport]:
        stmt = select(rollout_agents).where(rollout_agents.c.org_id == org_id)
        if environment is not None:
            stmt = stmt.where(rollout_agents.c.environment == environment)
        return [_agent(r) for r in self.conn.execute(stmt.order_by(rollout_agents.c.name))]

    def forget_agent(self, org_id: str, name: str) -> bool:
        found = self.conn.execute(
            delete(rollout_agents).where(rollout_agents.c.org_id == org_id, rollout_agents.c.name == name)
        )
        return bool(found.rowcount)

    # -- the change feed's head -----------------------------------------------------------------------

    def last_change(self, org_id: str) -> tuple[int, datetime] | None:
        """Sequence number and time of the org's last decision-relevant event (None: there is none)."""
        # Newest first along the (org_id, seq) unique index: stops at the first relevant event.
        stmt = (
            select(events.c.seq, events.c.at)
            .where(events.c.org_id == org_id, events.c.object_kind.not_in(NOT_DECISION_RELEVANT))
            .order_by(events.c.seq.desc())
            .limit(1)
        )
        row = self.conn.execute(stmt).first()
        return (int(row.seq), utc(row.at)) if row else None

    def touched(self, org_id: str, after: int, limit: int) -> builtins.list[tuple[str, str]]:
        """``(object kind, object id)`` of the org's events after ``after``, in order (at most ``limit``)."""
        stmt = (
            select(events.c.object_kind, events.c.object_id)
            .where(events.c.org_id == org_id, events.c.seq > after)
            .order_by(events.c.seq)
            .limit(limit)
        )
        return [(r.object_kind, r.object_id) for r in self.conn.execute(stmt)]

    def event_at(self, org_id: str, seq: int) -> datetime | None:
        at = self.conn.execute(select(events.c.at).where(events.c.org_id == org_id, events.c.seq == seq)).scalar()
        return utc(at) if at is not None else None
