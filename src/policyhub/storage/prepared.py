"""Hot-path statements compiled once per dialect and executed straight on the driver's cursor.

SQLAlchemy's ``Connection.execute`` costs tens of microseconds per call even for a cached statement
(parameter construction, execution context, result metadata, row processing) — several times what the
driver spends on a small indexed statement. The few statements that every policy write runs are
declared as ordinary Core statements and wrapped in :class:`Prepared`: its first use on a dialect
compiles the SQL and looks up SQLAlchemy's own bind and result processors for each parameter and
column, so values are stored and read back exactly as SQLAlchemy would (JSON text, SQLite datetimes),
while each later call is one driver ``execute`` plus those conversions. Driver errors are raised as
SQLAlchemy's exception classes, so callers handle them as before (``IntegrityError`` retries,
``OperationalError`` -> 503), and a lost connection is invalidated in the pool.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.sql.expression import Executable

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Plan:
    sql: str
    positional: tuple[str, ...] | None  # parameter order for positional drivers; None: named (a dict)
    binds: tuple[tuple[str, Callable[[Any], Any]], ...]  # parameters that need converting
    row: Any  # a namedtuple class of the result columns (None: the statement returns none)
    results: tuple[tuple[int, Callable[[Any], Any]], ...]  # result columns that need converting


class Prepared:
    """A Core statement run on the driver connection of a SQLAlchemy ``Connection``."""

    def __init__(self, statement: Executable, *, column_keys: tuple[str, ...] = ()) -> None:
        """``column_keys``: for an INSERT/UPDATE, the columns its parameters set (as for ``execute``)."""
        self.statement = statement
        self.column_keys = column_keys
        self._plans: dict[str, _Plan] = {}

    def execute(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """Run the statement with ``params`` (by bind name); returns the driver cursor."""
        plan = self._plan(conn.dialect)
        values = dict(params)
        for name, process in plan.binds:
            if name in values:
                values[name] = process(values[name])
        args: Any = values if plan.positional is None else tuple(values[name] for name in plan.positional)
        driver = conn.connection.driver_connection
        try:
            return driver.execute(plan.sql, args)  # type: ignore[union-attr]
        except conn.dialect.loaded_dbapi.Error as exc:
            raise _wrapped(conn, plan.sql, args, exc) from exc

    def rowcount(self, conn: Connection, params: Mapping[str, Any]) -> int:
        """Run a DML statement; the number of rows it matched."""
        return int(self.execute(conn, params).rowcount)

    def first(self, conn: Connection, params: Mapping[str, Any]) -> Any | None:
        """The first result row (attribute access by column label), or None."""
        plan = self._plan(conn.dialect)
        row = self.execute(conn, params).fetchone()
        return None if row is None else _convert(plan, row)

    def all(self, conn: Connection, params: Mapping[str, Any]) -> list[Any]:
        plan = self._plan(conn.dialect)
        return [_convert(plan, row) for row in self.execute(conn, params).fetchall()]

    def _plan(self, dialect: Dialect) -> _Plan:
        plan = self._plans.get(dialect.name)
        if plan is None:
            plan = self._plans[dialect.name] = _compile(self.statement, self.column_keys, dialect)
        return plan


def driver_execute(conn: Connection, sql: str) -> None:
    """Run a parameterless statement (savepoints) on the driver, its errors raised as SQLAlchemy's."""
    try:
        conn.connection.driver_connection.execute(sql)  # type: ignore[union-attr]
    except conn.dialect.loaded_dbapi.Error as exc:
        raise _wrapped(conn, sql, (), exc) from exc


def _convert(plan: _Plan, row: Any) -> Any:
    if plan.results:
        row = list(row)
        for index, process in plan.results:
            row[index] = process(row[index])
    assert plan.row is not None, "a statement without result columns returned a row"
    return plan.row._make(row)


def _compile(statement: Executable, column_keys: tuple[str, ...], dialect: Dialect) -> _Plan:
    compiled = statement.compile(dialect=dialect, column_keys=list(column_keys))  # type: ignore[attr-defined]
    positional = tuple(compiled.positiontup) if compiled.positional else None
    binds = []
    for name, bind in compiled.binds.items():
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            binds.append((name, process))
    columns: list[str] = []
    results = []
    for index, column in enumerate(getattr(statement, "selected_columns", ())):
        columns.append(column.key)
        process = column.type.dialect_impl(dialect).result_processor(dialect, None)
        if process is not None:
            results.append((index, process))
    row = namedtuple("Row", columns, rename=True) if columns else None
    return _Plan(compiled.string, positional, tuple(binds), row, tuple(results))


def _wrapped(conn: Connection, sql: str, args: Any, exc: Any) -> StatementError:
    """The driver's error as SQLAlchemy would raise it; a lost connection leaves the pool."""
    dialect = conn.dialect
    invalidated = False
    if dialect.is_disconnect(exc, conn.connection.dbapi_connection, None):
        conn.invalidate(exc)
        invalidated = True
    wrapped: StatementError = DBAPIError.instance(
        sql, args, exc, dialect.loaded_dbapi.Error, connection_invalidated=invalidated, dialect=dialect
    )
    return wrapped
