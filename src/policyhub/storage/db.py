"""The storage transactor: the transaction boundary (one unit of work per request) and all the storage
offers the layers above it to run transactions: :meth:`Database.read`, :meth:`Database.read_async`,
:meth:`Database.transact` / :meth:`Database.transact_async` (a write, with a grouping key, an optional plan
made outside the lock, and dry runs) and :meth:`Database.on_commit`. Group commit and group reads are
private details behind it; the engine and its settings are ``connect.py``'s.

SQLite write transactions take the write lock up front (``BEGIN IMMEDIATE``); threads of one process
queue on an in-process lock instead of spinning on SQLite's busy handler. PostgreSQL write transactions
serialise per org on the org row (``SELECT ... FOR UPDATE``), which also orders the org's audit hash chain.
"""

from __future__ import annotations

import asyncio
import fcntl
import functools
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import anyio.to_thread
from sqlalchemy import text
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError

from policyhub.domain.audit_keys import AuditKeyring
from policyhub.errors import FieldError, InvalidInput, Unavailable
from policyhub.storage.connect import (
    NoDatabase,
    display_url,
    dumps,
    ensure_sqlite_dir,
    loads,
    make_engine,
    null_pool_engine,
    sqlite_path,
)
from policyhub.storage.group_commit import GroupCommitWriter
from policyhub.storage.group_read import GroupReader
from policyhub.storage.unit_of_work import Preparation, UnitOfWork

#: Re-exported: what importers of this module used to find here (``connect.py`` holds them now).
__all__ = [
    "Database",
    "NoDatabase",
    "display_url",
    "dumps",
    "ensure_sqlite_dir",
    "loads",
    "null_pool_engine",
    "sqlite_path",
]

T = TypeVar("T")

#: PostgreSQL group-commit writer threads per process (writes of one org always go to the same one).
KEYED_WRITERS = 4


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
        self.url = url
        #: The audit chain's key, handed to every unit of work (see ``services.audit``).
        self.audit_keyring = audit_keyring
        self.is_sqlite = url.startswith("sqlite")
        path = sqlite_path(url) if self.is_sqlite else None
        if not create and path is not None and not path.is_file():
            raise NoDatabase(f"no SQLite database at {path}")
        #: Called after each tracked commit of this process (see :meth:`on_commit`).
        self._commit_hooks: list[Callable[[], None]] = []
        self._write_lock = threading.Lock() if self.is_sqlite else None
        self.engine = make_engine(
            url, pool_size=pool_size, timeout_s=connect_timeout_s, busy_ms=busy_timeout_ms, create=create
        )
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

    def on_commit(self, hook: Callable[[], None]) -> None:
        """Call ``hook`` after every tracked transaction this process commits (in the committing thread,
        after the commit is durable): caches of database state use it to see that this process changed
        something since they last looked (the decision engine does). A hook must be quick and not raise."""
        self._commit_hooks.append(hook)

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
        commit calls no :meth:`on_commit` hook, for writes no cache depends on (the decision log).
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
                            for hook in self._commit_hooks:
                                hook()
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
