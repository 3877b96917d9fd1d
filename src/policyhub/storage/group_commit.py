"""Group commit: one writer thread runs concurrent write jobs in one transaction.

SQLite allows one writer at a time and each commit costs an fsync. Under concurrent load, the writer
takes every job waiting in the queue (up to ``max_batch``), runs each in its own SAVEPOINT — so a job
that fails or is a dry run is rolled back alone — and commits them all with one fsync. A job's caller
gets its result only after that commit is durable, so an acknowledged write is never lost.

On PostgreSQL the writes of one org queue on the org's row lock, each holding it for all its round
trips and its commit; there the writers batch only jobs of one ``key`` (the org), so a batch takes the
same single lock its jobs would each have taken, in the same order, and never more (no new deadlock).

A job may come with a :class:`Preparation`: the writer plans it on a read *before* taking the lock, so
that the lock (SQLite's, which every process of a ``serve --workers N`` shares, or an org's row lock on
PostgreSQL) is held only to write. A plan that finds its state moved raises ``StalePlan`` before writing
anything, and the job's ordinary ``work`` runs instead, under the lock; so does a job whose planning
failed (its ``work`` raises the same error, or none if the state moved meanwhile). Of the jobs of one
batch with the same target, only the first is prepared: the others would find it moved.

A planned write needs no savepoint: it either raises ``StalePlan`` before writing (a savepoint is taken
then, for the ``work`` that follows) or only the database can fail it, part-way; then the whole
transaction is rolled back and the batch runs again, every job from the start in its own savepoint.
The jobs of a batch share one unit of work, so that what one job read under the lock (the org's audit
chain head) serves the next; a rollback to a savepoint makes it forget.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Any, NamedTuple

from sqlalchemy.exc import IntegrityError

from policyhub.errors import Unavailable
from policyhub.storage.batching import BatchThread
from policyhub.storage.prepared import driver_execute
from policyhub.storage.unit_of_work import Preparation, StalePlan, Transactions, UnitOfWork, Work


class Job(NamedTuple):
    work: Work
    rollback: bool
    attempts: int
    future: Future[Any]
    tracked: bool
    key: str | None
    prepare: Preparation | None


class GroupCommitWriter(BatchThread[Job]):
    """``by_key``: batch only jobs with the same key (PostgreSQL); else any jobs (SQLite)."""

    def __init__(self, db: Transactions, max_batch: int = 64, *, by_key: bool = False) -> None:
        super().__init__("policyhub-writer", max_batch)
        self.db = db
        self.by_key = by_key
        self._deferred: deque[Job] = deque()  # jobs of other keys, taken out while a batch was filled

    def enqueue(
        self,
        work: Callable[[UnitOfWork], Any],
        *,
        rollback: bool,
        attempts: int,
        tracked: bool = True,
        key: str | None = None,
        prepare: Preparation | None = None,
    ) -> Future[Any]:
        """Queue ``work`` for the next batch; the future resolves once the batch is committed.

        The batch's commit calls the ``Database.on_commit`` hooks when any of its jobs is ``tracked``.
        """
        future: Future[Any] = Future()
        self.put(Job(work, rollback, attempts, future, tracked, key, prepare))
        return future

    def next_job(self) -> Job | None:
        return self._deferred.popleft() if self._deferred else super().next_job()

    def fill(self, batch: list[Job]) -> list[Job]:
        """Add waiting jobs to ``batch`` (deferred ones first, in order), up to ``max_batch``; by key, jobs of
        other keys wait for a later batch."""
        if not self.by_key:
            return super().fill(batch)
        key = batch[0].key
        if self._deferred:
            kept: deque[Job] = deque()
            while self._deferred:
                held = self._deferred.popleft()
                (batch if held.key == key and len(batch) < self.max_batch else kept).append(held)
            self._deferred = kept
        while len(batch) < self.max_batch:
            job = self.waiting()
            if job is None:
                break
            (batch if job.key == key else self._deferred).append(job)
        return batch

    def _fail_waiting(self, exc: BaseException) -> None:
        """The database could not be written for a whole busy timeout: the jobs that queued meanwhile
        get the same 503 now, instead of each waiting another busy timeout in the next batch."""
        while self._deferred:
            job = self._deferred.popleft()
            if not job.future.done():
                job.future.set_exception(exc)
        while (waiting := self.waiting()) is not None:
            if not waiting.future.done():
                waiting.future.set_exception(exc)

    def _prepare(self, batch: list[Job]) -> list[Work | _Planned]:
        """Each job's work, planned on one read outside the lock where the job can be."""
        works: list[Work | _Planned] = [job.work for job in batch]
        if all(job.prepare is None for job in batch):
            return works
        targets: set[Hashable] = set()
        try:
            with self.db.read() as uow:
                for i, job in enumerate(batch):
                    if job.prepare is None or job.prepare.target in targets:
                        continue
                    targets.add(job.prepare.target)
                    try:
                        planned = job.prepare.plan(uow)
                    except Exception:  # its work, under the lock, decides (same error, or none)
                        continue
                    if planned is not None:
                        works[i] = _Planned(planned, job.work)
        except Exception:  # no read (e.g. the database is away): every job runs its work
            return [job.work for job in batch]
        return works

    def serve(self, batch: list[Job]) -> None:
        works = self._prepare(batch)
        if len(batch) == 1:
            self._run_alone(batch[0], _planned_or(works[0]))
            return
        try:
            try:
                outcomes = self._commit(batch, works)
            except _PlannedWriteFailed:
                outcomes = self._commit(batch, [job.work for job in batch])
        except BaseException as exc:  # the commit itself failed: nothing in the batch is durable
            for job in batch:
                if not job.future.done():
                    job.future.set_exception(exc)
            if isinstance(exc, Unavailable):
                self._fail_waiting(exc)
            return
        for future, result, error in outcomes:
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)

    def _commit(
        self, batch: list[Job], works: list[Work | _Planned]
    ) -> list[tuple[Future[Any], Any, BaseException | None]]:
        """Run the batch's jobs in one transaction and commit it; each job's result or error."""
        outcomes: list[tuple[Future[Any], Any, BaseException | None]] = []
        tracked = any(job.tracked and not job.rollback for job in batch)
        with self.db.write(tracked=tracked) as uow:
            for job, work in zip(batch, works, strict=True):
                if isinstance(work, _Planned) and not job.rollback:
                    outcome = _run_planned(uow, work, job.attempts)
                else:
                    outcome = _run_job(uow, _planned_or(work), job.rollback, job.attempts)
                outcomes.append((job.future, *outcome))
        return outcomes

    def _run_alone(self, job: Job, work: Work) -> None:
        """A batch of one needs no savepoint: the transaction is the job's own, rolled back when it fails
        or is a dry run (two statements, or round trips, fewer for every uncontended write)."""
        try:
            result = self.db.run_alone(work, rollback=job.rollback, attempts=job.attempts, tracked=job.tracked)
        except BaseException as exc:
            job.future.set_exception(exc)
            if isinstance(exc, Unavailable):
                self._fail_waiting(exc)
        else:
            job.future.set_result(result)


class _Planned(NamedTuple):
    """A job's write planned outside the lock, and its ordinary work for when the plan is stale."""

    write: Work
    work: Work


class _PlannedWriteFailed(Exception):
    """A planned write, run without a savepoint, failed part-way: the transaction must not commit."""


def _planned_or(work: Work | _Planned) -> Work:
    """As one callable: the planned write the first time; when it finds its state moved, or on a retry,
    the ordinary work."""
    if not isinstance(work, _Planned):
        return work
    planned, tried = work, False

    def run(uow: UnitOfWork) -> Any:
        nonlocal tried
        if not tried:
            tried = True
            try:
                return planned.write(uow)
            except StalePlan:
                pass
        return planned.work(uow)

    return run


def _run_planned(uow: UnitOfWork, planned: _Planned, attempts: int) -> tuple[Any, BaseException | None]:
    try:
        return planned.write(uow), None
    except StalePlan:  # nothing written: the ordinary work, in a savepoint from here
        return _run_job(uow, planned.work, False, attempts)
    except BaseException as exc:
        raise _PlannedWriteFailed from exc


def _run_job(uow: UnitOfWork, work: Work, rollback: bool, attempts: int) -> tuple[Any, BaseException | None]:
    # Savepoints go straight to the driver: SQLAlchemy names each one uniquely, which defeats its
    # statement cache, and it needs to know nothing of them (the batch is one transaction to it).
    conn = uow.conn
    for attempt in range(attempts):
        driver_execute(conn, "SAVEPOINT job")
        try:
            result = work(uow)
        except IntegrityError as exc:
            _undo(uow, exc)
            if attempt == attempts - 1:
                return None, exc
            continue
        except BaseException as exc:
            _undo(uow, exc)
            return None, exc
        if rollback:
            _undo(uow, None)
        else:
            driver_execute(conn, "RELEASE job")
        return result, None
    return None, RuntimeError("unreachable")


def _undo(uow: UnitOfWork, cause: BaseException | None) -> None:
    """Roll the job back to its savepoint. When its error lost the connection (the database went away),
    nothing in the batch can commit: the error fails the whole batch (a 503 for each of its callers)."""
    conn = uow.conn
    if conn.invalidated:
        raise cause or RuntimeError("the connection was lost")
    driver_execute(conn, "ROLLBACK TO SAVEPOINT job")
    driver_execute(conn, "RELEASE SAVEPOINT job")
    uow.forget()
