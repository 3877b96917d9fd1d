"""The decision log: which decisions are kept, with how much of their input, written in batches.

Decisions are answered before they are written: a background thread drains a bounded queue and writes
batches in one transaction each, so logging never sits on the decision's latency. A caller that must
read its record back (a vendor API that returns an evaluation id) waits for its batch to commit.
"""

from __future__ import annotations

import concurrent.futures
import logging
import queue
import random
import re
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from policyhub.domain.canonical import now
from policyhub.engine.outcome import Decision, DecisionResult, Effect
from policyhub.engine.points import PointRegistry
from policyhub.storage.db import Database
from policyhub.storage.repositories.decisions import LoggedDecision, LoggedPolicy

log = logging.getLogger(__name__)

InputMode = Literal["none", "redacted", "full"]
REDACTED = "[REDACTED]"
DEFAULT_REDACT = (
    "authorization",
    "cookie",
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "api-key",
    "private_key",
    "credential",
)


@dataclass(frozen=True)
class LogPolicy:
    """What the log keeps. ``sample_allow`` is the share of allow decisions kept; warn and deny are always
    kept, and so are allow decisions with an ``audit`` result (a violation a policy only records)."""

    enabled: bool = True
    sample_allow: float = 0.01
    input_mode: InputMode = "redacted"
    redact_keys: tuple[str, ...] = DEFAULT_REDACT


def redact(value: Any, pattern: re.Pattern[str]) -> Any:
    """A copy of ``value`` with the values of secret-looking keys (any depth) replaced by ``[REDACTED]``."""
    if isinstance(value, dict):
        return {k: REDACTED if pattern.search(str(k)) else redact(v, pattern) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, pattern) for v in value]
    return value


class DecisionLog:
    """A bounded queue drained by one writer thread; ``record`` never blocks a decision."""

    def __init__(
        self,
        db: Database,
        policy: LogPolicy,
        *,
        max_batch: int = 500,
        max_queue: int = 100_000,
        linger_s: float = 0.05,
        points: PointRegistry | None = None,
    ) -> None:
        self.db = db
        self.policy = policy
        #: Each point's ``log_input`` filters what is kept of its inputs (``ai_content`` masks secrets).
        self.points = points
        self.dropped = 0
        self._pattern = re.compile("|".join(re.escape(k) for k in policy.redact_keys) or "(?!)", re.IGNORECASE)
        self._queue: queue.Queue[_Pending | None] = queue.Queue(max_queue)
        self._max_batch = max_batch
        self._linger_s = linger_s
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def wanted(self, result: DecisionResult, *, force: bool = False) -> bool:
        if force:
            return True
        if not self.policy.enabled:
            return False
        if result.decision is not Decision.ALLOW or self.policy.sample_allow >= 1.0:
            return True
        if any(r.effect is Effect.AUDIT for r in result.results):  # a record-only violation exists to be recorded
            return True
        return random.random() < self.policy.sample_allow

    def entry(
        self,
        org_id: str,
        result: DecisionResult,
        raw_input: Any,
        *,
        source: str,
        principal_id: str | None,
        at: datetime,
    ) -> LoggedDecision:
        mode = self.policy.input_mode
        if mode != "none" and self.points is not None:
            raw_input = self.points.get(result.point).log_input(raw_input)
        kept = None if mode == "none" else raw_input if mode == "full" else redact(raw_input, self._pattern)
        return LoggedDecision(
            id=result.id,
            org_id=org_id,
            at=at,
            source=source,
            point=result.point,
            scope_path=result.scope,
            decision=result.decision.value,
            input_hash=result.input_hash,
            input=kept,
            results=[r.to_json() for r in result.results],
            obligations=result.obligations,
            principal_id=principal_id,
            policy_state=result.snapshot_seq,
            policies=tuple(LoggedPolicy(r.policy_id, r.type, r.version, r.effect.value) for r in result.results),
        )

    def record(
        self,
        org_id: str,
        result: DecisionResult,
        raw_input: Any,
        *,
        source: str,
        principal_id: str | None,
        force: bool = False,
        wait: bool = False,
    ) -> concurrent.futures.Future[None] | None:
        """Queue the decision if the policy keeps it (``force``: always). With ``wait``, the returned future
        resolves when the record is committed. The record itself is built by the writer thread."""
        if not self.wanted(result, force=force):
            return None
        self._ensure_thread()
        future: concurrent.futures.Future[None] | None = concurrent.futures.Future() if wait else None
        pending = _Pending(org_id, result, raw_input, source, principal_id, now(), future)
        try:
            self._queue.put(pending, block=force, timeout=5 if force else None)
        except queue.Full:
            self.dropped += 1
            if future is not None:
                future.set_exception(RuntimeError("the decision log is full"))
        return future

    def flush(self, timeout_s: float = 10.0) -> None:
        """Wait until everything queued so far is written (tests, shutdown)."""
        if self._thread is None:
            return
        future: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._queue.put(_Pending("", None, None, "", None, now(), future))
        future.result(timeout=timeout_s)

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)
            self._thread = None

    def _ensure_thread(self) -> None:
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="decision-log", daemon=True)
                    self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item]
            try:
                while len(batch) < self._max_batch:
                    nxt = self._queue.get(timeout=self._linger_s)
                    if nxt is None:
                        self._write(batch)
                        return
                    batch.append(nxt)
            except queue.Empty:
                pass
            self._write(batch)

    def _write(self, batch: list[_Pending]) -> None:
        rows = [
            self.entry(p.org_id, p.result, p.raw_input, source=p.source, principal_id=p.principal_id, at=p.at)
            for p in batch
            if p.result is not None
        ]
        error: Exception | None = None
        for attempt in range(3):
            try:
                # Untracked: the log is no policy state, so its commits must not make decisions re-check it.
                self.db.transact(lambda uow: uow.decisions.insert_many(rows), tracked=False)
                error = None
                break
            except Exception as exc:  # the database is down: retry briefly, then give up on this batch
                error = exc
                threading.Event().wait(0.2 * (attempt + 1))
        if error is not None:
            log.error("decision log batch of %d lost: %s", len(rows), error)
            self.dropped += len(rows)
        for pending in batch:
            if pending.future is None:
                continue
            if error is None:
                pending.future.set_result(None)
            else:
                pending.future.set_exception(error)


@dataclass(frozen=True)
class _Pending:
    """A decision waiting for the writer (``result`` None: a flush marker)."""

    org_id: str
    result: DecisionResult | None
    raw_input: Any
    source: str
    principal_id: str | None
    at: datetime
    future: concurrent.futures.Future[None] | None
