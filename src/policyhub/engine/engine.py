"""Select, evaluate, combine: the decision engine over the org snapshots."""

from __future__ import annotations

import hashlib
import math
import os
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import BaseModel

from policyhub.domain.records import Enforcement, Policy
from policyhub.engine.cache import CompiledCache
from policyhub.engine.judging import JudgeRunner
from policyhub.engine.source import DatabaseSource, SnapshotSource
from policyhub.errors import InvalidInput, NotFound
from policyhub.evaluation.compiled import BrokenPolicy, CompiledPolicy, Evaluation, Judge, JudgeQuestion, RateLimiter
from policyhub.evaluation.limits import DeadlineExceeded, DecisionLimits, ResponseBudget
from policyhub.evaluation.outcome import Decision, DecisionResult, Effect, Outcome, PolicyResult, Severity, Status
from policyhub.evaluation.points import DecisionPoint, PointRegistry
from policyhub.evaluation.snapshot import Entry, OrgSnapshot
from policyhub.policy_types.registry import PolicyTypeRegistry
from policyhub.storage.db import Database


@dataclass(frozen=True)
class DecisionRequest:
    """One question: at ``point`` and ``scope``, may ``input`` pass? ``policies`` narrows to named ones."""

    point: str
    input: Any
    scope: str | None = None
    policies: tuple[str, ...] | None = None
    explain: bool = False


@dataclass(slots=True)
class Prepared:
    """A request resolved against a snapshot: the point, the scope, the parsed input, the candidates."""

    request: DecisionRequest
    snapshot: OrgSnapshot
    point: DecisionPoint
    scope_path: str | None
    input: BaseModel
    entries: Sequence[Entry] = ()
    #: ``time.monotonic()`` by which the decision must be answered (its policies and its judge calls).
    deadline: float = math.inf
    #: Made when the judge is asked (before evaluating), then evaluated in.
    evaluation: Evaluation | None = None


class DecisionEngine:
    """Keeps one snapshot per org, refreshed when the org's state revision moves.

    Freshness bound: a replica checks the org's revision (one indexed single-row read) at most every
    ``refresh_s`` seconds, so a decision reflects every write acknowledged more than ``refresh_s``
    earlier, on any replica; and after any commit of its own process it checks again at once, so a
    write acknowledged by this replica is in its very next decision. ``refresh_s=0`` checks every time.

    Snapshots come from ``source`` (:class:`policyhub.engine.source.SnapshotSource`), by default the
    database's (``db``), which applies the org's changes to the held snapshot. ``db`` is optional when a
    source is given (an agent's, built from its bundle): without it there is no on-commit check.
    """

    def __init__(
        self,
        db: Database | None,
        registry: PolicyTypeRegistry,
        points: PointRegistry,
        limiter: RateLimiter,
        *,
        source: SnapshotSource | None = None,
        judge: Judge | None = None,
        refresh_s: float = 0.25,
        cache: CompiledCache | None = None,
        limits: DecisionLimits | None = None,
        judge_per_org: int = 4,
        judge_threads: int = 16,
    ) -> None:
        self.db = db
        if source is None:
            if db is None:
                raise ValueError("a decision engine needs a database or a snapshot source")
            source = DatabaseSource(db)
        self.source = source
        #: This process's commits (counted by the database's on-commit hook): a snapshot checked before the
        #: latest one is checked again.
        self._commits = 0
        if db is not None:
            db.on_commit(self._committed)
        self.registry = registry
        self.points = points
        self.limiter = limiter
        self.judge = judge
        self.refresh_s = refresh_s
        self.limits = limits or DecisionLimits()
        #: Judge calls: concurrent within a decision, at most ``judge_per_org`` at once per org, on their own
        #: threads (never the shared request pool), within the decision's deadline.
        self.judging = JudgeRunner(judge, per_org=judge_per_org, threads=judge_threads) if judge else None
        self.cache = cache or CompiledCache()
        #: org id -> (snapshot, when it was last checked, this process's commit count at that check)
        self._snapshots: dict[str, tuple[OrgSnapshot, float, int]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    # -- snapshots --------------------------------------------------------------------------------

    def current(self, org_id: str) -> OrgSnapshot | None:
        """The org's snapshot if it was checked within the freshness bound and this process has committed
        nothing since (a write acknowledged by this replica is seen by its next decision), else None."""
        held = self._snapshots.get(org_id)
        if held is None or held[2] != self._commits or time.monotonic() - held[1] >= self.refresh_s:
            return None
        return held[0]

    def _committed(self) -> None:
        self._commits += 1

    def refresh(self, org_id: str) -> OrgSnapshot:
        """Ask the source for the org's current snapshot: the held one when the revision has not moved, else
        a new one (blocking: call off the event loop)."""
        with self._org_lock(org_id):
            current = self.current(org_id)
            if current is not None:
                return current  # another thread refreshed while this one waited
            held = self._snapshots.get(org_id)
            commits = self._commits  # read before the revision: a later commit forces the next check
            started = time.monotonic()
            snapshot = self.source.snapshot(org_id, held[0] if held is not None else None, self._compile)
            self._snapshots[org_id] = (snapshot, started, commits)
            return snapshot

    def snapshot(self, org_id: str) -> OrgSnapshot:
        return self.current(org_id) or self.refresh(org_id)

    def invalidate(self, org_id: str) -> None:
        """Forget the org's freshness check (the next decision re-reads its revision)."""
        held = self._snapshots.get(org_id)
        if held is not None:
            self._snapshots[org_id] = (held[0], float("-inf"), held[2])

    def _org_lock(self, org_id: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(org_id, threading.Lock())

    def _compile(self, policy: Policy, snapshot: OrgSnapshot, stamp: tuple[Any, ...]) -> Entry | None:
        policy_type = self.registry.find(policy.type)
        point = policy_type.decision_point if policy_type else None
        if policy_type is None or point is None:
            return None
        key = (policy.id, policy.revision, stamp)
        compiled = self.cache.get(key)
        if compiled is None:
            try:
                compiled = policy_type.compile(policy, snapshot)
            except Exception as exc:  # a stored policy that cannot compile must deny, not vanish
                compiled = BrokenPolicy(policy, f"policy {policy.name!r} cannot be compiled: {exc}")
            self.cache.put(key, compiled)
        return Entry(policy, compiled, point)

    # -- decisions --------------------------------------------------------------------------------

    def prepare(
        self,
        snapshot: OrgSnapshot,
        request: DecisionRequest,
        authorize: Callable[[str | None], None] | None = None,
    ) -> Prepared:
        """Validate the request and select the candidate policies (raises a 4xx error on bad input).

        ``authorize`` sees the resolved scope before anything else about the request is looked at, so a
        caller who may not see a scope learns nothing about it (not even whether its input would be valid).
        """
        deadline = time.monotonic() + self.limits.deadline_s
        point = self.points.get(request.point)
        scope_path: str | None = None
        if request.scope not in (None, "", "/"):
            scope = snapshot.scope(str(request.scope))
            if scope is None:
                raise NotFound(f"scope {request.scope!r} not found")
            scope_path = scope.path
        if authorize is not None:
            authorize(scope_path)
        parsed = point.parse(request.input)
        entries = point.select(snapshot, scope_path, parsed)
        if request.policies is not None:
            wanted = set(request.policies)
            entries = [e for e in entries if e.policy.name in wanted]
            missing = wanted - {e.policy.name for e in entries}
            if missing:
                raise InvalidInput.field(
                    "policies", f"no enabled {point.name} policy applies here named {', '.join(sorted(missing))}"
                )
        return Prepared(request, snapshot, point, scope_path, parsed, entries, deadline)

    def blocking(self, prepared: Prepared) -> bool:
        """Whether evaluating may wait on the network (Redis counters): run it off the event loop. Judge calls
        are not a reason: they are asked before evaluating (:meth:`ask_judge_async`), on the judge's threads."""
        if any("sandbox" in entry.compiled.uses for entry in prepared.entries):  # Rego waits on a worker process
            return True
        if prepared.entries and prepared.point.off_loop(prepared.request.input):  # long CPU work: not on the loop
            return True
        if not self.limiter.blocking:
            return False
        return any("limiter" in entry.compiled.uses for entry in prepared.entries)

    def _evaluation(self, prepared: Prepared) -> Evaluation:
        if prepared.evaluation is None:
            prepared.evaluation = Evaluation(
                prepared.point.name,
                prepared.scope_path,
                prepared.input,
                time.time(),
                prepared.snapshot,
                self.limiter,
                self.judge,
                deadline=prepared.deadline,
            )
        return prepared.evaluation

    def _questions(self, prepared: Prepared) -> tuple[Evaluation, list[JudgeQuestion]]:
        evaluation = self._evaluation(prepared)
        asked: dict[JudgeQuestion, None] = {}
        if self.judging is not None and not evaluation.verdicts:
            for entry in prepared.entries:
                compiled = entry.compiled
                if "judge" in compiled.uses and compiled.applies(evaluation):
                    asked.update(dict.fromkeys(compiled.judge_questions(evaluation)))
        return evaluation, list(asked)

    def ask_judge(self, prepared: Prepared) -> None:
        """Ask the judge every question of the decision's policies at once, waiting in this thread."""
        evaluation, questions = self._questions(prepared)
        if questions and self.judging is not None:
            evaluation.verdicts = self.judging.ask(prepared.snapshot.org_id, questions, prepared.deadline)

    async def ask_judge_async(self, prepared: Prepared) -> None:
        """:meth:`ask_judge` for the event loop: it waits without holding a thread."""
        evaluation, questions = self._questions(prepared)
        if questions and self.judging is not None:
            verdicts = await self.judging.ask_async(prepared.snapshot.org_id, questions, prepared.deadline)
            evaluation.verdicts = verdicts

    def response_budget(self) -> ResponseBudget:
        """What the results of one answer may say; a batch shares one across its decisions."""
        return ResponseBudget(self.limits)

    def evaluate(self, prepared: Prepared, budget: ResponseBudget | None = None) -> DecisionResult:
        """Evaluate every candidate in order and combine: any deny denies, else any warn warns, else allow.

        Within the decision's deadline: a policy not evaluated when it has passed denies with the reason.
        Its results' reasons and details are cut to the ``budget`` (by default, one decision's own).
        """
        point = prepared.point.name
        if self.judging is not None and (prepared.evaluation is None or not prepared.evaluation.verdicts):
            self.ask_judge(prepared)  # no-op without judged policies
        evaluation = self._evaluation(prepared)
        budget = budget or ResponseBudget(self.limits)
        deadline = prepared.deadline
        entries = prepared.entries
        if len(entries) > 1:  # a stable sort: ties keep scope order
            entries = sorted(entries, key=lambda entry: entry.compiled.order())
        results: list[PolicyResult] = []
        obligations: list[dict[str, Any]] = []
        denied_by: str | None = None
        for entry in entries:
            compiled = entry.compiled
            if time.monotonic() > deadline:
                results.append(_result(entry, _late(self.limits), budget, error=True, late=True))
                denied_by = denied_by or entry.policy.name
                continue
            if not compiled.applies(evaluation):
                if prepared.request.explain:
                    results.append(_result(entry, Outcome.not_applicable("does not apply to this input"), budget))
                continue
            if denied_by is not None and "limiter" in compiled.uses:
                # A request a gateway already refuses must not use up anyone's quota.
                outcome = Outcome.not_applicable(f"not counted: already denied by policy {denied_by!r}")
                if prepared.request.explain:
                    results.append(_result(entry, outcome, budget))
                continue
            result = _evaluate_one(entry, compiled, evaluation, budget, self.limits)
            if result.effect is Effect.NOT_APPLICABLE and not prepared.request.explain:
                continue
            results.append(result)
            for obligation in result.obligations:
                obligations.append({**obligation, "policy_id": entry.policy.id, "policy": entry.policy.name})
            if result.effect is Effect.DENY and denied_by is None:
                denied_by = entry.policy.name
        return DecisionResult(
            decision=_combine(results),
            point=point,
            scope=prepared.scope_path,
            results=results,
            obligations=obligations,
            snapshot_seq=prepared.snapshot.seq,
            id=decision_id(),
            input_hash=input_hash(point, prepared.scope_path, prepared.request.input),
        )

    def decide(self, org_id: str, request: DecisionRequest) -> DecisionResult:
        """Prepare and evaluate in the calling thread (the CLI, tests, the batch endpoint's worker)."""
        return self.evaluate(self.prepare(self.snapshot(org_id), request))


def decision_id() -> str:
    """A time-ordered UUID (version 7: 48 bits of Unix milliseconds, then random bits), so the log's
    index grows at its end. Decision ids are not secrets (reading one needs a key of its org), so the
    random part comes from the process PRNG rather than a system call per decision."""
    ms = time.time_ns() // 1_000_000
    bits = _prng.getrandbits(74)  # 12 bits after the version nibble, 62 after the variant bits
    return _UUID7 % (ms >> 16, ms & 0xFFFF, bits >> 62, 0x8000 | (bits >> 48) & 0x3FFF, bits & 0xFFFFFFFFFFFF)


_UUID7 = "%08x-%04x-7%03x-%04x-%012x"  # time (48 bits), version 7, rand_a, variant 10 + rand_b
_prng = random.Random()  # seeded from the OS; re-seeded in forked children so workers never share a stream
os.register_at_fork(after_in_child=_prng.seed)


def input_hash(point: str, scope_path: str | None, data: Any) -> str:
    """SHA-256 of the request as sorted-key JSON: equal inputs give equal hashes, so logs can omit the input."""
    try:
        text = orjson.dumps({"point": point, "scope": scope_path, "input": data}, option=orjson.OPT_SORT_KEYS)
    except (TypeError, orjson.JSONEncodeError):
        text = repr(data).encode()
    return hashlib.sha256(text).hexdigest()


def _evaluate_one(
    entry: Entry, compiled: CompiledPolicy, evaluation: Evaluation, budget: ResponseBudget, limits: DecisionLimits
) -> PolicyResult:
    try:
        outcome = compiled.evaluate(evaluation)
    except DeadlineExceeded as exc:  # the decision is incomplete: deny, whatever the policy's fail-open says
        return _result(entry, _late(limits, str(exc)), budget, error=True, late=True)
    except Exception as exc:  # never allow because of an internal error
        message = str(exc) or type(exc).__name__
        if compiled.fail_open:
            return _result(
                entry,
                Outcome.passed(f"evaluation error, allowed by the policy's fail-open setting: {message}"),
                budget,
                error=True,
            )
        return _result(entry, Outcome.violated(f"evaluation error: {message}"), budget, error=True)
    return _result(entry, outcome, budget)


def _late(limits: DecisionLimits, message: str = "decision deadline exceeded") -> Outcome:
    """The result of a policy the decision's deadline left unevaluated (or cut short)."""
    return Outcome.violated(f"evaluation error: {message} ({limits.deadline_s:g}s): not evaluated")


def _result(
    entry: Entry, outcome: Outcome, budget: ResponseBudget, *, error: bool = False, late: bool = False
) -> PolicyResult:
    """``late``: the deadline cut the policy's evaluation, so it denies whatever its enforcement mode."""
    policy = entry.policy
    reasons, details = budget.bound(outcome.reasons, outcome.details, entry.compiled.details_bounded)
    return PolicyResult(
        policy_id=policy.id,
        name=policy.name,
        type=policy.type,
        version=policy.version,
        revision=policy.revision,
        scope=policy.scope_path,
        enforcement=policy.enforcement._value_,
        effect=Effect.DENY if late else effect_of(outcome, policy.enforcement),
        status=outcome.status,
        reasons=reasons,
        obligations=outcome.obligations,
        details=details,
        error=error,
    )



def effect_of(outcome: Outcome, enforcement: Enforcement) -> Effect:
    """A verdict under the policy's enforcement mode: ``warn`` turns a violation into a warning, ``audit``
    (or a vendor's log-only action) only records it."""
    if outcome.status is Status.PASS:
        return Effect.ALLOW
    if outcome.status is Status.NOT_APPLICABLE:
        return Effect.NOT_APPLICABLE
    if enforcement is Enforcement.AUDIT or outcome.severity is Severity.LOG:
        return Effect.AUDIT
    if enforcement is Enforcement.WARN or outcome.severity is Severity.WARN:
        return Effect.WARN
    return Effect.DENY


def _combine(results: list[PolicyResult]) -> Decision:
    decision = Decision.ALLOW
    for result in results:
        if result.effect is Effect.DENY:
            return Decision.DENY
        if result.effect is Effect.WARN:
            decision = Decision.WARN
    return decision
