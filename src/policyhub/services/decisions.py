"""Decisions: who may ask, evaluation through the engine, the decision log."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any

import anyio

from policyhub.domain.canonical import iso
from policyhub.domain.records import Actor, Role
from policyhub.engine.engine import DecisionEngine, DecisionRequest, Prepared
from policyhub.errors import Forbidden, InvalidInput, NotFound
from policyhub.evaluation.limits import ResponseBudget
from policyhub.evaluation.outcome import DecisionResult
from policyhub.services.authz import covers, require_role
from policyhub.services.decision_log import DecisionLog
from policyhub.storage.repositories.decisions import DecisionFilter, LoggedDecision
from policyhub.storage.unit_of_work import UnitOfWork

MAX_BATCH = 1000


class DecisionService:
    def __init__(self, engine: DecisionEngine, log: DecisionLog) -> None:
        self.engine = engine
        self.log = log

    def prepare(self, actor: Actor, request: DecisionRequest) -> Prepared:
        """Resolve and authorise (blocking when the org's snapshot must be re-checked)."""
        snapshot = self.engine.snapshot(actor.org_id)
        return self.engine.prepare(snapshot, request, self._authorizer(actor, request))

    def decide(
        self, actor: Actor, request: DecisionRequest, *, source: str = "v1", record: bool | None = None
    ) -> DecisionResult:
        """A decision, evaluated in the calling thread. ``record=True`` writes it to the log and waits
        for the commit (vendor APIs that hand out the record's id); None follows the log's sampling."""
        result = self.engine.evaluate(self.prepare(actor, request))
        future = self.log.record(
            actor.org_id,
            result,
            request.input,
            source=source,
            principal_id=actor.principal_id,
            force=bool(record),
            wait=bool(record),
        )
        if record and future is not None:
            future.result(timeout=10)
        return result

    async def decide_async(
        self, actor: Actor, request: DecisionRequest, *, source: str = "v1", budget: ResponseBudget | None = None
    ) -> DecisionResult:
        """A decision for the event loop: evaluation stays on the loop unless it may wait on the network;
        an input whose point says it is long work to parse and evaluate is decided on a worker thread from
        the start. ``budget``: what its results may say, shared with the other decisions of a batch."""
        if self._off_loop(request):
            result = await anyio.to_thread.run_sync(self._evaluate_here, actor, request, budget)
            self.log.record(actor.org_id, result, request.input, source=source, principal_id=actor.principal_id)
            return result
        snapshot = self.engine.current(actor.org_id)
        if snapshot is None:
            snapshot = await anyio.to_thread.run_sync(self.engine.refresh, actor.org_id)
        prepared = self.engine.prepare(snapshot, request, self._authorizer(actor, request))
        await self.engine.ask_judge_async(prepared)  # judge calls (if any): on the judge's threads, not the pool's
        if self.engine.blocking(prepared):
            result = await anyio.to_thread.run_sync(self.engine.evaluate, prepared, budget)
        else:
            result = self.engine.evaluate(prepared, budget)
        self.log.record(actor.org_id, result, request.input, source=source, principal_id=actor.principal_id)
        return result

    def _off_loop(self, request: DecisionRequest) -> bool:
        try:
            return self.engine.points.get(request.point).off_loop(request.input)
        except InvalidInput:  # an unknown point: the ordinary path says so
            return False

    def _evaluate_here(self, actor: Actor, request: DecisionRequest, budget: ResponseBudget | None) -> DecisionResult:
        """Prepare (the snapshot, the input's parse), ask the judge and evaluate, all in the calling thread."""
        return self.engine.evaluate(self.prepare(actor, request), budget)

    async def decide_batch(self, actor: Actor, requests: list[DecisionRequest]) -> list[DecisionResult | Exception]:
        """Many independent decisions; a bad item fails alone (its error takes its place in the answer).
        Their results share one answer's size budget (once spent, later ones keep their verdicts)."""
        if len(requests) > MAX_BATCH:
            raise InvalidInput.field("requests", f"at most {MAX_BATCH} decisions per batch")
        out: list[DecisionResult | Exception] = []
        budget = self.engine.response_budget()
        for request in requests:
            try:
                out.append(await self.decide_async(actor, request, budget=budget))
            except (InvalidInput, NotFound, Forbidden) as exc:
                out.append(exc)
            await asyncio.sleep(0)  # let other requests in between items of a large batch
        return out

    @staticmethod
    def _authorizer(actor: Actor, request: DecisionRequest) -> Callable[[str | None], None]:
        """Any role may ask (enforcement points hold viewer keys), at a scope its key covers. A scope the
        key cannot see is a 404 exactly like a scope that does not exist; an ancestor of the key's scope
        is a 403."""

        def authorize(path: str | None) -> None:
            if path is not None and not covers(actor, path) and not (actor.scope_path or "").startswith(path + "/"):
                raise NotFound(f"scope {request.scope!r} not found")
            require_role(actor, Role.VIEWER, path)

        return authorize

    # -- the log ----------------------------------------------------------------------------------

    def logged(self, uow: UnitOfWork, actor: Actor, decision_id: str) -> LoggedDecision:
        found = uow.decisions.get(actor.org_id, decision_id)
        if found is None or (not covers(actor, found.scope_path) and actor.scope_path is not None):
            raise NotFound(f"decision {decision_id!r} not found")
        require_role(actor, Role.VIEWER, found.scope_path)
        return found

    def log_page(
        self, uow: UnitOfWork, actor: Actor, flt: DecisionFilter, limit: int
    ) -> tuple[list[LoggedDecision], tuple[datetime, str] | None]:
        """Newest first, keyset-paged on (at, id); returns the page and the position after it (None at
        the end). A scope-bound key sees only decisions asked within its scope. A page holds at most
        ``limit`` rows and, beyond its first row, at most the log's ``page_bytes``; a value too large
        to have been written under the log's caps (an older row) comes back as a truncation marker."""
        require_role(actor, Role.VIEWER, actor.scope_path)
        policy = self.log.policy
        rows = uow.decisions.page(
            actor.org_id,
            flt,
            limit + 1,
            max_bytes=policy.page_bytes,
            max_value_bytes=2 * max(policy.max_input_bytes, policy.max_results_bytes),
        )
        page: list[LoggedDecision] = []
        used = 0
        for row in rows[:limit]:  # a page stops early once its rows exceed the log's page bytes
            if page and used + row.size > policy.page_bytes:
                break
            page.append(row)
            used += row.size
        after = (page[-1].at, page[-1].id) if len(page) < len(rows) else None
        return [r for r in page if covers(actor, r.scope_path)], after


def logged_json(d: LoggedDecision) -> dict[str, Any]:
    return {
        "id": d.id,
        "at": iso(d.at),
        "source": d.source,
        "point": d.point,
        "scope": d.scope_path,
        "decision": d.decision,
        "input_hash": d.input_hash,
        "input": d.input,
        "results": d.results,
        "obligations": d.obligations,
        "principal_id": d.principal_id,
        "policy_state": d.policy_state,
    }
