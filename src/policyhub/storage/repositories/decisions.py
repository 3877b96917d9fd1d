"""The decision log: recorded decisions and the policies that took part in each.

Reading a page is bounded in bytes as well as in rows: each row's JSON columns are measured by the
database (``size``), a value larger than ``max_value_bytes`` (a row written before the log capped what
it keeps) comes back as a truncation marker without being read, and :meth:`DecisionRepository.page`
stops reading once the rows it read exceed ``max_bytes``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import JSON, LargeBinary, Text, and_, case, cast, func, literal, or_, select, type_coerce
from sqlalchemy.engine import Connection, Row
from sqlalchemy.sql.elements import ColumnElement

from policyhub.domain.bounded_json import TRUNCATED
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
    #: Bytes the record's JSON columns hold, plus a fixed share for the others (set when read).
    size: int = 0


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


#: What a row's columns other than its JSON ones count for in a page's bytes; what a marker counts for.
ROW_OVERHEAD_BYTES = 300
_MARKER_BYTES = 50


def _logged(row: Row[Any]) -> LoggedDecision:
    sizes = [int(getattr(row, f"{name}_bytes", 0) or 0) for name in ("input", "results", "obligations")]
    cut_input, cut_results = row.input is None and sizes[0] > 0, row.results is None and sizes[1] > 0
    answered = [_MARKER_BYTES if cut_input else sizes[0], _MARKER_BYTES if cut_results else sizes[1], sizes[2]]
    return LoggedDecision(
        id=row.id,
        org_id=row.org_id,
        at=row.at,
        source=row.source,
        point=row.point,
        scope_path=row.scope_path,
        decision=row.decision,
        input_hash=row.input_hash,
        input={TRUNCATED: True, "bytes": sizes[0]} if cut_input else row.input,
        results=[{TRUNCATED: True, "bytes": sizes[1]}] if cut_results else list(row.results or []),
        obligations=list(row.obligations or []),
        principal_id=row.principal_id,
        policy_state=int(row.policy_state),
        size=ROW_OVERHEAD_BYTES + sum(answered),
    )


class DecisionRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def insert_new(self, logged: list[LoggedDecision]) -> int:
        """Write the records whose id is not in the log yet (an agent re-sends a batch it is not sure was
        received); returns how many were new. The insert also skips a duplicate that a concurrent batch
        wrote after the ids were checked, so a decision is stored once whatever races."""
        ids = [d.id for d in logged]
        known: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            known.update(self.conn.execute(select(decisions.c.id).where(decisions.c.id.in_(chunk))).scalars())
        new: list[LoggedDecision] = []
        for d in logged:  # a batch may name an id twice, too
            if d.id not in known:
                known.add(d.id)
                new.append(d)
        self.insert_many(new, skip_duplicates=True)
        return len(new)

    def insert_many(self, logged: list[LoggedDecision], *, skip_duplicates: bool = False) -> None:
        """Write a batch with two driver-level ``executemany`` calls: the log's write rate is the decision
        rate, so the rows skip SQLAlchemy's per-row type processing (JSON is encoded here, with orjson).
        ``skip_duplicates``: a row whose key is already stored is left out (``ON CONFLICT DO NOTHING``,
        which SQLite and PostgreSQL both read)."""
        if not logged:
            return
        conflict = " ON CONFLICT DO NOTHING" if skip_duplicates else ""
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
        self.conn.exec_driver_sql(
            f"INSERT INTO decisions ({_DECISION_COLUMNS}) VALUES ({marks}){conflict}", decision_rows
        )
        policy_rows = [
            (d.id, p.policy_id, d.org_id, stamps[d.id], p.policy_type, p.policy_version, p.effect)
            for d in logged
            for p in d.policies
        ]
        if policy_rows:
            marks = ", ".join([mark] * 7)
            self.conn.exec_driver_sql(
                f"INSERT INTO decision_policies ({_POLICY_COLUMNS}) VALUES ({marks}){conflict}", policy_rows
            )

    def get(self, org_id: str, decision_id: str) -> LoggedDecision | None:
        row = self.conn.execute(
            select(decisions).where(decisions.c.org_id == org_id, decisions.c.id == decision_id)
        ).first()
        return _logged(row) if row else None

    def _bytes(self, column: Any) -> ColumnElement[Any]:
        """The bytes of a JSON column's text, counted by the database (0 for NULL)."""
        if self.conn.dialect.name == "sqlite":
            return func.coalesce(func.length(cast(column, LargeBinary)), 0)
        return func.coalesce(func.octet_length(cast(column, Text)), 0)

    def page(
        self,
        org_id: str,
        flt: DecisionFilter,
        limit: int,
        *,
        max_bytes: int | None = None,
        max_value_bytes: int | None = None,
    ) -> list[LoggedDecision]:
        """Newest first; keyset pages on (at, id). With ``max_bytes``, reading stops after the row that
        takes the rows read past it (at least two are read, so a caller can tell that more follow); an
        ``input`` or ``results`` over ``max_value_bytes`` is not read, and comes back as a marker."""
        columns: list[Any] = [c for c in decisions.c if c.name not in ("input", "results")]
        sizes = [self._bytes(decisions.c.input), self._bytes(decisions.c.results), self._bytes(decisions.c.obligations)]
        if max_value_bytes is None:
            columns += [decisions.c.input, decisions.c.results]
        else:
            columns += [
                type_coerce(case((sizes[0] <= max_value_bytes, decisions.c.input), else_=literal(None)), JSON).label(
                    "input"
                ),
                type_coerce(case((sizes[1] <= max_value_bytes, decisions.c.results), else_=literal(None)), JSON).label(
                    "results"
                ),
            ]
        columns += [sizes[0].label("input_bytes"), sizes[1].label("results_bytes"), sizes[2].label("obligations_bytes")]
        stmt = select(*columns).where(decisions.c.org_id == org_id)
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
        out: list[LoggedDecision] = []
        used = 0
        for row in self.conn.execute(stmt):
            out.append(_logged(row))
            used += out[-1].size
            if max_bytes is not None and used > max_bytes and len(out) >= 2:
                break
        return out
