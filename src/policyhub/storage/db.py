"""Database engine set-up and the transaction boundary (one unit of work per request).

SQLite is tuned for durability (WAL, ``synchronous=FULL``, foreign keys) and write transactions
take the write lock up front (``BEGIN IMMEDIATE``); threads of one process queue on an in-process
lock instead of spinning on SQLite's busy handler. PostgreSQL write transactions serialise per org
on the org row (``SELECT ... FOR UPDATE``), which also orders the org's audit hash chain.
"""

from __future__ import annotations

import asyncio
import fcntl
import functools
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import anyio.to_thread
import orjson
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.pool import NullPool

from policyhub.domain.audit_keys import AuditKeyring
from policyhub.domain.canonical import has_digit_run
from policyhub.errors import FieldError, InvalidInput, Unavailable
from policyhub.storage.unit_of_work import Preparation, UnitOfWork

if TYPE_CHECKING:
    from policyhub.storage.group_commit import GroupCommitWriter

T = TypeVar("T")

#: PostgreSQL group-commit writer threads per process (writes of one org always go to the same one).
KEYED_WRITERS = 4


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


class Database:
    """Owns the engine; hands out units of work. Created once at start-up."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 40,
        connect_timeout_s: float = 3.0,
        busy_timeout_ms: int = 3000,
        group_commit: bool = True,
        audit_keyring: AuditKeyring | None = None,
        create: bool = True,
    ) -> None:
        """``create=False``: a SQLite file that does not exist is :class:`NoDatabase`, never created empty
        (commands other than ``serve`` and ``migrate`` must find the database the server uses)."""
        from policyhub.storage.group_commit import GroupCommitWriter
        from policyhub.storage.group_read import GroupReader

        self.url = url
        #: The audit chain's key, handed to every unit of work (see ``services.audit``).
        self.audit_keyring = audit_keyring
        self.is_sqlite = url.startswith("sqlite")
        path = sqlite_path(url) if self.is_sqlite else None
        if not create and path is not None and not path.is_file():
            raise NoDatabase(f"no SQLite database at {path}")
        #: Transactions this process has committed (monotonic): caches of database state compare it to
        #: see that this process changed something since they last looked (the decision engine does).
        self.commits = 0
        self._write_lock = threading.Lock() if self.is_sqlite else None
        self.engine = self._create_engine(url, pool_size, connect_timeout_s, busy_timeout_ms, create)
        self._process_lock = _ProcessWriteLock.for_url(url) if self.is_sqlite else None
        self._group = GroupCommitWriter(self) if self.is_sqlite and group_commit else None
        #: Reads of async callers are served together by one reader thread (see group_read).
        self._reader = GroupReader(self) if group_commit else None
        #: PostgreSQL: writers that batch the writes of one key (an org), each key always on the same one.
        self._keyed = (
            [GroupCommitWriter(self, by_key=True) for _ in range(KEYED_WRITERS)]
            if group_commit and not self.is_sqlite
            else []
        )

    def _create_engine(self, url: str, pool_size: int, timeout_s: float, busy_ms: int, create: bool) -> Engine:
        if self.is_sqlite:
            if create:
                _ensure_sqlite_dir(url)
            engine = create_engine(
                url,
                json_serializer=dumps,
                json_deserializer=loads,
                # Kept open: a SQLite connection is cheap to hold but not to open (PRAGMAs, WAL index).
                pool_size=pool_size,
                max_overflow=8,
                connect_args={"check_same_thread": False, "timeout": busy_ms / 1000},
            )
            _tune_sqlite(engine, busy_ms)
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

    def dispose(self) -> None:
        for worker in [self._group, self._reader, *self._keyed]:
            if worker is not None:
                worker.stop()
        self.engine.dispose()

    @contextmanager
    def read(self) -> Iterator[UnitOfWork]:
        """A read-only unit of work (a deferred transaction, never committed)."""
        with _unavailable_on_db_errors(), self.engine.connect() as conn, conn.begin():
            yield UnitOfWork(conn, self.audit_keyring)

    async def read_async(self, work: Callable[[UnitOfWork], T]) -> T:
        """``work`` on a read unit of work, for async callers: served with the other reads that wait, in one
        read transaction on the reader thread (without group commit, in a worker thread of its own)."""
        if self._reader is not None:
            with _unavailable_on_db_errors():
                return await asyncio.wrap_future(self._reader.enqueue(work))  # type: ignore[no-any-return]

        def alone() -> T:
            with self.read() as uow:
                return work(uow)

        return await anyio.to_thread.run_sync(alone)

    @contextmanager
    def write(self, *, rollback: bool = False, tracked: bool = True) -> Iterator[UnitOfWork]:
        """A write unit of work: commits when the block exits cleanly, else rolls back.

        ``rollback=True`` runs everything and then throws it away (dry runs). ``tracked=False``: the
        commit is not counted in :attr:`commits`, for writes no cache depends on (the decision log).
        """
        lock = self._write_lock
        with _unavailable_on_db_errors():
            if lock is not None:
                lock.acquire()
            if self._process_lock is not None:
                self._process_lock.acquire()
            try:
                with self.engine.connect() as conn:
                    if self.is_sqlite:
                        conn = conn.execution_options(sqlite_begin="IMMEDIATE")
                    trans = conn.begin()
                    try:
                        yield UnitOfWork(conn, self.audit_keyring)
                    except BaseException:
                        trans.rollback()
                        raise
                    if rollback:
                        trans.rollback()
                    else:
                        trans.commit()
                        if tracked:
                            self.commits += 1
            finally:
                if self._process_lock is not None:
                    self._process_lock.release()
                if lock is not None:
                    lock.release()

    def transact(
        self,
        work: Callable[[UnitOfWork], T],
        *,
        rollback: bool = False,
        attempts: int = 3,
        tracked: bool = True,
        key: str | None = None,
        prepare: Preparation | None = None,
    ) -> T:
        """Run ``work`` in a write unit of work, retrying when a concurrent writer won a race.

        Concurrent calls are grouped into one transaction (one commit), each in its own savepoint; the
        call returns only after its write is committed. On SQLite all writes group; on PostgreSQL those
        that name the same ``key`` (the org whose row lock they take first), others run alone.
        ``tracked``: see :meth:`write`. ``prepare``: how a grouped write can be planned outside the lock
        (see :class:`~policyhub.storage.unit_of_work.Preparation`); the result is the same either way.
        """
        writer = self._writer(key)
        if writer is not None:
            with _unavailable_on_db_errors():
                future = writer.enqueue(
                    work, rollback=rollback, attempts=attempts, tracked=tracked, key=key, prepare=prepare
                )
                return future.result()  # type: ignore[no-any-return]
        return self.run_alone(work, rollback=rollback, attempts=attempts, tracked=tracked)

    def run_alone(self, work: Callable[[UnitOfWork], T], *, rollback: bool, attempts: int, tracked: bool) -> T:
        """``work`` in a transaction of its own, in the calling thread, retried when a concurrent writer won
        a race (an ``IntegrityError``): :meth:`transact` without grouping."""
        for attempt in range(attempts):
            try:
                with self.write(rollback=rollback, tracked=tracked) as uow:
                    return work(uow)
            except IntegrityError:
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    async def transact_async(
        self,
        work: Callable[[UnitOfWork], T],
        *,
        rollback: bool = False,
        attempts: int = 3,
        key: str | None = None,
        prepare: Preparation | None = None,
    ) -> T:
        """:meth:`transact` for async callers: the event loop awaits a group commit directly (no
        thread-pool hop); a write that cannot group runs in a worker thread."""
        writer = self._writer(key)
        if writer is not None:
            with _unavailable_on_db_errors():
                future = writer.enqueue(work, rollback=rollback, attempts=attempts, key=key, prepare=prepare)
                return await asyncio.wrap_future(future)  # type: ignore[no-any-return]
        run = functools.partial(self.transact, work, rollback=rollback, attempts=attempts)
        return await anyio.to_thread.run_sync(run)

    def _writer(self, key: str | None) -> GroupCommitWriter | None:
        if self._group is not None:
            return self._group
        if key is None or not self._keyed:
            return None
        return self._keyed[hash(key) % len(self._keyed)]

    def schema_problem(self) -> str | None:
        """Why this database cannot be used as it is: never migrated, or at another schema revision than this
        code's (``policyhub migrate`` fixes both); None when it is current. Raises :class:`Unavailable`
        when the database cannot be reached."""
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        from policyhub.storage.migrate import alembic_config

        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        with _unavailable_on_db_errors(), self.engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
        if current is None:
            return "it holds no PolicyHub schema (never migrated)"
        if current != head:
            return f"its schema is at revision {current}, this PolicyHub needs {head}"
        return None

    def ping(self) -> None:
        """Raise :class:`Unavailable` unless the database answers."""
        with _unavailable_on_db_errors(), self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))


@contextmanager
def _unavailable_on_db_errors() -> Iterator[None]:
    try:
        yield
    except IntegrityError:
        raise
    except DataError as exc:  # a value the database cannot store (e.g. NUL in PostgreSQL text)
        raise InvalidInput(
            f"a value cannot be stored: {_short(exc)}", [FieldError("body", "value not storable")]
        ) from exc
    except OperationalError as exc:
        raise Unavailable(f"database unavailable: {_short(exc)}") from exc
    except DBAPIError as exc:
        if exc.connection_invalidated or _is_disconnect(exc):
            raise Unavailable(f"database unavailable: {_short(exc)}") from exc
        raise
    except TimeoutError as exc:
        raise Unavailable("database unavailable: connection pool exhausted") from exc
    except sqlite3.OperationalError as exc:  # raised by statements we issue on the driver connection
        raise Unavailable(f"database unavailable: {exc}") from exc


def _is_disconnect(exc: DBAPIError) -> bool:
    name = type(exc.orig).__name__ if exc.orig is not None else ""
    return name in {"OperationalError", "InterfaceError", "AdminShutdown", "ConnectionTimeout"}


def _short(exc: Exception) -> str:
    orig = getattr(exc, "orig", None) or exc
    return str(orig).strip().splitlines()[0][:200] if str(orig).strip() else type(orig).__name__


class _ProcessWriteLock:
    """An OS file lock that queues SQLite writers of several processes (``serve --workers N``).

    The kernel wakes the next waiter as soon as the holder releases, where SQLite's busy handler would
    sleep and poll; a process that dies releases it automatically.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd: int | None = None

    @classmethod
    def for_url(cls, url: str) -> _ProcessWriteLock | None:
        from sqlalchemy.engine import make_url

        database = make_url(url).database
        if not database or database == ":memory:":
            return None
        return cls(os.path.abspath(os.path.expanduser(database)) + ".write-lock")

    def acquire(self) -> None:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)


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


def _ensure_sqlite_dir(url: str) -> None:
    from sqlalchemy.engine import make_url

    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)


def _tune_sqlite(engine: Engine, busy_ms: int) -> None:
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
