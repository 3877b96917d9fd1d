"""Asking the judge for a decision: concurrently, bounded per org, off the shared pool, within the deadline.

A decision's policies declare their questions (:meth:`CompiledPolicy.judge_questions`); they are asked
all at once, so three judged policies cost one judge round trip, not three. The calls run on the
judge's own threads (:class:`~policyhub.sandbox.lanes.TenantLanes`), at most ``per_org`` at once for
one org: an org's flood of judged decisions waits in its own queue and never holds a thread of the
request pool (a caller on the event loop awaits without a thread) nor more than its share of the
judge's. Each call's timeout is the judge's own, cut to what is left of the decision's deadline; a
question not answered by then is answered :class:`DeadlineExceeded` (the policy denies with the reason)
and, if it had not started, is never sent.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from concurrent.futures import Future
from concurrent.futures import wait as wait_all

from policyhub.evaluation.compiled import Judge, JudgeQuestion, JudgeVerdict
from policyhub.evaluation.limits import DeadlineExceeded
from policyhub.sandbox.lanes import LaneFull, TenantLanes

DEFAULT_TIMEOUT_S = 5.0

Verdicts = dict[JudgeQuestion, JudgeVerdict | Exception]


class JudgeBusy(Exception):
    """The org already has too many judge calls waiting."""


class JudgeRunner:
    def __init__(self, judge: Judge, *, per_org: int = 4, threads: int = 16) -> None:
        self.judge = judge
        timeout = getattr(judge, "timeout_s", None)
        self.timeout_s = float(timeout) if isinstance(timeout, int | float) and timeout > 0 else DEFAULT_TIMEOUT_S
        self.lanes = TenantLanes(threads, per_org, name="policyhub-judge")

    def ask(self, org_id: str, questions: Sequence[JudgeQuestion], deadline: float) -> Verdicts:
        """Every question's answer (or error), waiting in the calling thread until ``deadline`` at most."""
        futures = self._submit(org_id, questions, deadline)
        wait_all(futures.values(), timeout=max(0.0, deadline - time.monotonic()))
        return self._collect(futures)

    async def ask_async(self, org_id: str, questions: Sequence[JudgeQuestion], deadline: float) -> Verdicts:
        """:meth:`ask` for the event loop: awaits the judge's threads without holding one of its own."""
        futures = self._submit(org_id, questions, deadline)
        waiting = [asyncio.wrap_future(f) for f in futures.values()]
        try:
            await asyncio.wait(waiting, timeout=max(0.0, deadline - time.monotonic()))
        finally:
            for f in waiting:  # the calls that have not started never will (started ones end by the deadline)
                if not f.cancel() and not f.cancelled():
                    f.exception()  # retrieved here; _collect reads it from the call's own future
        return self._collect(futures)

    def close(self) -> None:
        self.lanes.shutdown()

    def _submit(
        self, org_id: str, questions: Sequence[JudgeQuestion], deadline: float
    ) -> dict[JudgeQuestion, Future[JudgeVerdict]]:
        return {q: self.lanes.submit(org_id, lambda q=q: self._call(q, deadline)) for q in questions}  # type: ignore[misc]

    def _call(self, question: JudgeQuestion, deadline: float) -> JudgeVerdict:
        left = deadline - time.monotonic()
        if left <= 0:
            raise DeadlineExceeded("decision deadline exceeded while waiting for the judge")
        timeout = min(self.timeout_s, left)
        try:
            return self.judge.judge(question.rule, question.content, timeout_s=timeout)
        except Exception:
            if timeout < self.timeout_s and time.monotonic() >= deadline:
                raise DeadlineExceeded("decision deadline exceeded while waiting for the judge") from None
            raise

    @staticmethod
    def _collect(futures: dict[JudgeQuestion, Future[JudgeVerdict]]) -> Verdicts:
        out: Verdicts = {}
        for question, future in futures.items():
            if not future.done() or future.cancelled():
                future.cancel()
                out[question] = DeadlineExceeded("decision deadline exceeded while waiting for the judge")
                continue
            error = future.exception()
            if isinstance(error, LaneFull):
                out[question] = JudgeBusy(f"too many judge calls of this org are waiting ({error})")
            elif isinstance(error, Exception):
                out[question] = error
            elif error is not None:  # pragma: no cover - a BaseException in a judge thread
                raise error
            else:
                out[question] = future.result()
        return out
