"""The decision log: recorded decisions and the policies that took part in each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

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
        if not logged:
            return
        self.conn.execute(
            decisions.insert(),
            [
                {
                    "id": d.id,
                    "org_id": d.org_id,
                    "at": d.at,
                    "source": d.source,
                    "point": d.point,
                    "scope_path": d.scope_path,
                    "decision": d.decision,
                    "input_hash": d.input_hash,
                    "input": d.input,
                    "results": d.results,
                    "obligations": d.obligations,
                    "principal_id": d.principal_id,
                    "policy_state": d.policy_state,
                }
                for d in logged
            ],
        )
        rows = [
            {
                "decision_id": d.id,
                "policy_id": p.policy_id,
                "org_id": d.org_id,
                "at": d.at,
                "policy_type": p.policy_type,
                "policy_version": p.policy_version,
                "effect": p.effect,
            }
            for d in logged
            for p in d.policies
        ]
        if rows:
            self.conn.execute(decision_policies.insert(), rows)

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
