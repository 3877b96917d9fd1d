"""Connecting to the database: the engine and its settings (SQLite pragmas, pools), the JSON codec of every
JSON column, and database URLs. What runs on a connection, and when, is the transactor's (``db.py``)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from policyhub.domain.canonical import has_digit_run
from policyhub.errors import Unavailable


def dumps(value: Any) -> str:
    """Compact UTF-8 JSON for every JSON column (orjson; the stdlib for what it refuses, e.g. huge ints)."""
    try:
        return orjson.dumps(value).decode()
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def loads(text: str | bytes) -> Any:
    """Read a JSON column: orjson, except where a run of 19+ digits could be an integer beyond 64 bits
    (orjson would turn it into a float; the stdlib keeps it exact)."""
    raw = text.encode() if isinstance(text, str) else text
    if has_digit_run(raw, 19):
        return json.loads(raw)
    return orjson.loads(raw)


def make_engine(url: str, *, pool_size: int, timeout_s: float, busy_ms: int, create: bool) -> Engine:
    """The engine of a serving process: SQLite tuned for durability (WAL, ``synchronous=FULL``, foreign keys,
    busy timeout), PostgreSQL with a bounded pool; JSON columns through :func:`dumps` and :func:`loads`."""
    if url.startswith("sqlite"):
        if create:
            ensure_sqlite_dir(url)
        engine = create_engine(
            url,
            json_serializer=dumps,
            json_deserializer=loads,
            # Kept open: a SQLite connection is cheap to hold but not to open (PRAGMAs, WAL index).
            pool_size=pool_size,
            max_overflow=8,
            connect_args={"check_same_thread": False, "timeout": busy_ms / 1000},
        )
        tune_sqlite(engine, busy_ms)
        return engine
    return create_engine(
        url,
        json_serializer=dumps,
        json_deserializer=loads,
        pool_size=pool_size,
        max_overflow=8,
        pool_timeout=timeout_s,
        pool_recycle=1800,
        connect_args={"connect_timeout": max(1, int(timeout_s))},
    )


class NoDatabase(Unavailable):
    """The SQLite file a command names does not exist (and the command may not create it)."""


def sqlite_path(url: str) -> Path | None:
    """The absolute path of a SQLite database file (a relative one is relative to the current directory);
    None for other databases and in-memory SQLite."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(os.path.abspath(os.path.expanduser(parsed.database)))


def display_url(url: str) -> str:
    """The URL for messages: its password hidden."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is shown as given
        return url


def ensure_sqlite_dir(url: str) -> None:
    from sqlalchemy.engine import make_url

    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)


def tune_sqlite(engine: Engine, busy_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        # Straight on the driver connection: SQLAlchemy's statement path would cost more than BEGIN itself.
        conn.connection.driver_connection.execute(f"BEGIN {mode}")  # type: ignore[union-attr]


def null_pool_engine(url: str) -> Engine:
    """A pool-less engine for one-shot tools (migrations, CLI admin commands)."""
    return create_engine(url, poolclass=NullPool, json_serializer=dumps, json_deserializer=loads)
