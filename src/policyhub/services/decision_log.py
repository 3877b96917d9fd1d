"""The decision log: which decisions are kept, with how much of their input, written in batches.

Decisions are answered before they are written: a background thread drains a bounded queue and writes
batches in one transaction each, so logging never sits on the decision's latency. A caller that must
read its record back (a vendor API that returns an evaluation id) waits for its batch to commit.

What is kept of an input depends on ``input_mode``: ``none`` keeps nothing; ``redacted`` (the default)
keeps only what the decision point's allow-list names (``DecisionPoint.log_fields``, declared next to
its input model), with token-shaped values and the values of secret-looking keys redacted; ``full``
keeps the input as sent (credentials included: for debugging only). In every mode the kept input and
the results are each cut to a byte budget (``max_input_bytes``, ``max_results_bytes``), the cut parts
replaced by truncation markers (:mod:`policyhub.domain.bounded_json`), so one record, and one page of
records, stays small whatever a caller sends.
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

from policyhub.domain.bounded_json import bounded, json_size, marker, truncated_text
from policyhub.domain.canonical import now
from policyhub.domain.redaction import REDACTED
from policyhub.evaluation.outcome import Decision, DecisionResult, Effect
from policyhub.evaluation.points import PointRegistry
from policyhub.storage.db import Database
from policyhub.storage.repositories.decisions import LoggedDecision, LoggedPolicy

log = logging.getLogger(__name__)

InputMode = Literal["none", "redacted", "full"]
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
    #: Bytes kept of one decision's input and of its results (compact JSON); beyond, cut with markers.
    max_input_bytes: int = 16 * 1024
    max_results_bytes: int = 16 * 1024
    #: Bytes of records one page of the log returns at most (a page stops early; its cursor goes on).
    page_bytes: int = 4 * 1024 * 1024


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
        return LoggedDecision(
            id=result.id,
            org_id=org_id,
            at=at,
            source=source,
            point=result.point,
            scope_path=result.scope,
            decision=result.decision.value,
            input_hash=result.input_hash,
            input=self.kept_input(result.point, raw_input),
            results=bounded_results([r.to_json() for r in result.results], self.policy.max_results_bytes),
            obligations=result.obligations,
            principal_id=principal_id,
            policy_state=result.snapshot_seq,
            policies=tuple(LoggedPolicy(r.policy_id, r.type, r.version, r.effect.value) for r in result.results),
        )

    def kept_input(self, point_name: str, raw_input: Any) -> Any:
        """What the log keeps of an input (see the module docstring)."""
        mode = self.policy.input_mode
        if mode == "none":
            return None
        point = None
        if self.points is not None and point_name in self.points.names():
            point = self.points.get(point_name)
        kept = point.log_input(raw_input) if point is not None else raw_input
        if mode == "redacted":
            kept = redact(point.log_fields(kept) if point is not None else kept, self._pattern)
        return bounded(kept, self.policy.max_input_bytes)

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


def bounded_results(results: list[dict[str, Any]], max_bytes: int) -> list[dict[str, Any]]:
    """A decision's results cut to ``max_bytes``, keeping each result's identity and verdict.

    Readers (the log API, JFrog evaluations, Flashback violations) read each result's ``policy_id``,
    ``effect``, ``status`` and ``error``, so those stay. The largest ``details`` are replaced by
    truncation markers first, then reasons are cut to their first few (a last reason says how many were
    left out); results that still do not fit are dropped from the end, and a final item
    ``{"_truncated": true, "omitted": N, ...}`` says how many (the decision's policies are all listed in
    the log's policy index whatever happens here).
    """
    size = json_size(results)
    if size <= max_bytes:
        return results
    out = [dict(r) for r in results]
    details = sorted(((json_size(r.get("details")), i) for i, r in enumerate(out) if r.get("details")), reverse=True)
    for details_size, i in details:
        if size <= max_bytes:
            return out
        cut = marker(out[i]["details"], details_size)
        out[i]["details"] = cut
        size -= details_size - json_size(cut)
    if size <= max_bytes:
        return out
    for r in out:
        reasons = r.get("reasons")
        if isinstance(reasons, list) and (len(reasons) > _KEPT_REASONS or json_size(reasons) > _REASON_BYTES):
            shown = [truncated_text(str(x), _REASON_BYTES) for x in reasons[:_KEPT_REASONS]]
            left = len(reasons) - len(shown)
            r["reasons"] = shown + ([f"… [truncated: {left} more reason(s)]"] if left else [])
    kept: list[dict[str, Any]] = []
    used = 2 + _MARKER_ITEM_BYTES
    for r in out:
        item = json_size(r) + 1
        if used + item > max_bytes:
            break
        kept.append(r)
        used += item
    omitted = out[len(kept) :]
    if omitted:
        kept.append({**marker(omitted), "omitted": len(omitted)})
    return kept


_KEPT_REASONS = 5
_REASON_BYTES = 500
_MARKER_ITEM_BYTES = 160


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
