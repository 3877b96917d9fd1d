"""The decision log: recorded decisions and the policies that took part in each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import and_, or_, select
from sqlalchemy.engine import Connection, Row

from policyhub.storage.tables import decision_policies, decisions


@dataclass(frozen=True)
class LoggedPolicy:
    policy_id: str
    policy_type: str
    policy_version: int
    effect: str


@dataclass(frozen=True)
class LoggedDecision:
    id: str
    org_id: str
    at: datetime
    source: str
    point: str
    scope_path: str | None
    decision: str
    input_hash: str
    input: Any
    results: list[dict[str, Any]]
    obligations: list[dict[str, Any]]
    principal_id: str | None
    policy_state: int
    policies: tuple[LoggedPolicy, ...] = ()


@dataclass(frozen=True)
class DecisionFilter:
    policy_id: str | None = None
    policy_type: str | None = None
    effects: tuple[str, ...] | None = None  # of the policy (with policy_id / policy_type)
    decision: str | None = None
    point: str | None = None
    source: str | None = None
    since: datetime | None = None
    after: tuple[datetime, str] | None = None  # keyset: (at, id) of the last row of the previous page


_DECISION_COLUMNS = (
    "id, org_id, at, source, point, scope_path, decision, input_hash, input, results, obligations, principal_id, "
    "policy_state"
)
_POLICY_COLUMNS = "decision_id, policy_id, org_id, at, policy_type, policy_version, effect"


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _logged(row: Row[Any]) -> LoggedDecision:
    return LoggedDecision(
        id=row.id,
        org_id=row.org_id,
        at=row.at,
        source=row.source,
        point=row.point,
        scope_path=row.scope_path,
        decision=row.decision,
        input_hash=row.input_hash,
        input=row.input,
        results=list(row.results or []),
        obligations=list(row.obligations or []),
        principal_id=row.principal_id,
        policy_state=int(row.policy_state),
    )


class DecisionRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def insert_many(self, logged: list[LoggedDecision]) -> None:
        """Write a batch with two driver-level ``executemany`` calls: the log's write rate is the decision
        rate, so the rows skip SQLAlchemy's per-row type processing (JSON is encoded here, with orjson)."""
        if not logged:
            return
        sqlite = self.conn.dialect.name == "sqlite"
        mark, json_mark = ("?", "?") if sqlite else ("%s", "%s::json")

        def at(value: datetime) -> Any:
            # SQLAlchemy's SQLite DATETIME text form (naive UTC), so reads and range filters agree.
            return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds") if sqlite else value

        stamps = {d.id: at(d.at) for d in logged}

        decision_rows = [
            (
                d.id,
                d.org_id,
                stamps[d.id],
                d.source,
                d.point,
                d.scope_path,
                d.decision,
                d.input_hash,
                None if d.input is None else _json(d.input),
                _json(d.results),
                _json(d.obligations),
                d.principal_id,
                d.policy_state,
            )
            for d in logged
        ]
        marks = ", ".join([mark] * 8 + [json_mark] * 3 + [mark] * 2)
        self.conn.exec_driver_sql(f"INSERT INTO decisions ({_DECISION_COLUMNS}) VALUES ({marks})", decision_rows)
        policy_rows = [
            (d.id, p.policy_id, d.org_id, stamps[d.id], p.policy_type, p.policy_version, p.effect)
            for d in logged
            for p in d.policies
        ]
        if policy_rows:
            marks = ", ".join([mark] * 7)
            self.conn.exec_driver_sql(
                f"INSERT INTO decision_policies ({_POLICY_COLUMNS}) VALUES ({marks})", policy_rows
            )

    def get(self, org_id: str, decision_id: str) -> LoggedDecision | None:
        row = self.conn.execute(
            select(decisions).where(decisions.c.org_id == org_id, decisions.c.id == decision_id)
        ).first()
        return _logged(row) if row else None

    def page(self, org_id: str, flt: DecisionFilter, limit: int) -> list[LoggedDecision]:
        """Newest first; keyset pages on (at, id)."""
        stmt = select(decisions).where(decisions.c.org_id == org_id)
        if flt.policy_id is not None or flt.policy_type is not None:
            dp = decision_policies
            sub = select(dp.c.decision_id).where(dp.c.org_id == org_id)
            if flt.policy_id is not None:
                sub = sub.where(dp.c.policy_id == flt.policy_id)
            if flt.policy_type is not None:
                sub = sub.where(dp.c.policy_type == flt.policy_type)
            if flt.effects is not None:
                sub = sub.where(dp.c.effect.in_(flt.effects))
            stmt = stmt.where(decisions.c.id.in_(sub))
        if flt.decision is not None:
            stmt = stmt.where(decisions.c.decision == flt.decision)
        if flt.point is not None:
            stmt = stmt.where(decisions.c.point == flt.point)
        if flt.source is not None:
            stmt = stmt.where(decisions.c.source == flt.source)
        if flt.since is not None:
            stmt = stmt.where(decisions.c.at >= flt.since)
        if flt.after is not None:
            at, last_id = flt.after
            stmt = stmt.where(or_(decisions.c.at < at, and_(decisions.c.at == at, decisions.c.id < last_id)))
        stmt = stmt.order_by(decisions.c.at.desc(), decisions.c.id.desc()).limit(limit)
        return [_logged(r) for r in self.conn.execute(stmt)]
