"""A thread that serves queued jobs in batches: what group commit and group reads share."""

from __future__ import annotations

import queue
import threading
from typing import Generic, TypeVar

T = TypeVar("T")


class BatchThread(Generic[T]):
    """One daemon thread (started on first use) that takes a job and every job waiting behind it, up to
    ``max_batch``, and serves them together with :meth:`serve`."""

    def __init__(self, name: str, max_batch: int) -> None:
        self.name = name
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[T | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def put(self, job: T) -> None:
        if self._thread is None or not self._thread.is_alive():
            with self._start_lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                    self._thread.start()
        self._queue.put(job)

    def stop(self) -> None:
        """Serve what is queued, then end the thread."""
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(10)

    def serve(self, batch: list[T]) -> None:
        raise NotImplementedError

    def next_job(self) -> T | None:
        """The job that starts the next batch (None: stop)."""
        return self._queue.get()

    def fill(self, batch: list[T]) -> list[T]:
        """``batch`` with the jobs waiting behind it, up to ``max_batch``."""
        while len(batch) < self.max_batch:
            job = self.waiting()
            if job is None:
                break
            batch.append(job)
        return batch

    def waiting(self) -> T | None:
        """The next job already queued, if any (a stop request stays queued)."""
        try:
            job = self._queue.get_nowait()
        except queue.Empty:
            return None
        if job is None:
            self._queue.put(None)
        return job

    def _run(self) -> None:
        while True:
            first = self.next_job()
            if first is None:
                return
            self.serve(self.fill([first]))
