"""Group commit for SQLite: one writer thread runs concurrent write jobs in one transaction.

SQLite allows one writer at a time and each commit costs an fsync. Under concurrent load, the writer
takes every job waiting in the queue (up to ``max_batch``), runs each in its own SAVEPOINT — so a job
that fails or is a dry run is rolled back alone — and commits them all with one fsync. A job's caller
gets its result only after that commit is durable, so an acknowledged write is never lost.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError

from policyhub.errors import Unavailable
from policyhub.storage.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from policyhub.storage.db import Database

Job = tuple[Callable[[UnitOfWork], Any], bool, int, "Future[Any]", bool]  # work, rollback, attempts, future, tracked


class GroupCommitWriter:
    def __init__(self, db: Database, max_batch: int = 64) -> None:
        self.db = db
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def enqueue(
        self, work: Callable[[UnitOfWork], Any], *, rollback: bool, attempts: int, tracked: bool = True
    ) -> Future[Any]:
        """Queue ``work`` for the next batch; the future resolves once the batch is committed.

        The batch's commit counts in ``Database.commits`` when any of its jobs is ``tracked``.
        """
        self._ensure_started()
        future: Future[Any] = Future()
        self._queue.put((work, rollback, attempts, future, tracked))
        return future

    def stop(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(10)

    def _ensure_started(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            with self._start_lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._run, name="policyhub-writer", daemon=True)
                    self._thread.start()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    self._queue.put(None)
                    break
                batch.append(job)
            self._run_batch(batch)

    def _fail_waiting(self, exc: BaseException) -> None:
        """The database could not be written for a whole busy timeout: the jobs that queued meanwhile
        get the same 503 now, instead of each waiting another busy timeout in the next batch."""
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                return
            if job is None:
                self._queue.put(None)
                return
            if not job[3].done():
                job[3].set_exception(exc)

    def _run_batch(self, batch: list[Job]) -> None:
        outcomes: list[tuple[Future[Any], Any, BaseException | None]] = []
        try:
            tracked = any(job[4] and not job[1] for job in batch)
            with self.db.write(tracked=tracked) as uow:
                conn = uow.conn
                for work, rollback, attempts, future, _ in batch:
                    outcomes.append((future, *_run_job(conn, work, rollback, attempts)))
        except BaseException as exc:  # the commit itself failed: nothing in the batch is durable
            for future, *_ in outcomes or [(job[3], None, None) for job in batch]:
                if not future.done():
                    future.set_exception(exc)
            for job in batch:
                if not job[3].done():
                    job[3].set_exception(exc)
            if isinstance(exc, Unavailable):
                self._fail_waiting(exc)
            return
        for future, result, error in outcomes:
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)


def _run_job(conn: Any, work: Callable[[UnitOfWork], Any], rollback: bool, attempts: int) -> tuple[Any, Any]:
    # Savepoints go straight to the driver: SQLAlchemy names each one uniquely, which defeats its
    # statement cache, and it needs to know nothing of them (the batch is one transaction to it).
    driver = conn.connection.driver_connection
    for attempt in range(attempts):
        driver.execute("SAVEPOINT job")
        try:
            result = work(UnitOfWork(conn))
        except IntegrityError as exc:
            _undo(driver)
            if attempt == attempts - 1:
                return None, exc
            continue
        except BaseException as exc:
            _undo(driver)
            return None, exc
        if rollback:
            _undo(driver)
        else:
            driver.execute("RELEASE job")
        return result, None
    return None, RuntimeError("unreachable")


def _undo(driver: Any) -> None:
    driver.execute("ROLLBACK TO job")
    driver.execute("RELEASE job")
