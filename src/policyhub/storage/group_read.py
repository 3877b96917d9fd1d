"""Group reads: one reader thread serves the reads that wait, together, in one read transaction.

A policy read is cheap; what costs is around it: a hop to a pool thread each, which then competes with
every other for the GIL, and a connection checkout, ``BEGIN`` and ``ROLLBACK`` each. The reader thread
takes every read waiting in its queue (up to ``max_batch``) and runs them one after the other on one
read transaction. That transaction starts after each of them was queued, so each sees every write that
was acknowledged before it was asked for. A read that fails fails alone: SQLite carries on after a
failed statement; PostgreSQL aborts the transaction, so the reads after it get a new one.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any, NamedTuple

from sqlalchemy.exc import DBAPIError

from policyhub.storage.batching import BatchThread
from policyhub.storage.unit_of_work import Transactions, Work


class _Read(NamedTuple):
    work: Work
    future: Future[Any]


class GroupReader(BatchThread[_Read]):
    """The reader thread of one transactor (``Database``)."""

    def __init__(self, db: Transactions, max_batch: int = 64) -> None:
        super().__init__("policyhub-reader", max_batch)
        self.db = db

    def enqueue(self, work: Work) -> Future[Any]:
        """Queue ``work`` for the next batch; the future holds its result or its error."""
        future: Future[Any] = Future()
        self.put(_Read(work, future))
        return future

    def serve(self, batch: list[_Read]) -> None:
        while batch:
            batch = self._serve_in_one_transaction(batch)

    def _serve_in_one_transaction(self, batch: list[_Read]) -> list[_Read]:
        """Serve ``batch`` on one read transaction; the reads left over when a database error aborted it
        (PostgreSQL aborts a transaction on any failed statement; SQLite carries on)."""
        try:
            with self.db.read() as uow:
                for i, (work, future) in enumerate(batch):
                    try:
                        result = work(uow)
                    except DBAPIError as exc:
                        future.set_exception(exc)
                        if not self.db.is_sqlite:
                            return batch[i + 1 :]
                    except BaseException as exc:
                        future.set_exception(exc)
                    else:
                        future.set_result(result)
        except BaseException as exc:  # no transaction (the database is away): every read still waiting fails
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
        return []
