"""The compiled form of a policy version, and what it may use while compiling and evaluating."""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, Protocol

from pydantic import BaseModel

from policyhub.domain.records import Policy
from policyhub.evaluation.limits import DeadlineExceeded
from policyhub.evaluation.outcome import Outcome
from policyhub.storage.repositories.resources import Resource

if TYPE_CHECKING:
    from policyhub.evaluation.snapshot import OrgSnapshot


class Resources(Protocol):
    """The org's non-policy objects (JFrog rules and templates, Kosli environments), read-only."""

    def resource(self, kind: str, resource_id: str) -> Resource | None: ...

    def resources(self, kind: str) -> list[Resource]: ...


class RateLimiter(Protocol):
    """A counter store shared by the evaluators of one process (memory) or of all replicas (Redis)."""

    #: Whether a call may block on the network (the engine then evaluates off the event loop).
    blocking: bool

    def hit(
        self,
        key: str,
        limit: int,
        window_s: float,
        *,
        sliding: bool,
        now: float,
        cost: int = 1,
        timeout_s: float | None = None,
    ) -> RateState:
        """Count one request against ``key`` and say whether it is within ``limit`` per ``window_s``.

        ``timeout_s`` bounds a networked store's wait (a policy's own setting); None: the store's default.
        """
        ...


class RateState(NamedTuple):
    """A counter's answer (a named tuple: one is made per rate-limit check)."""

    allowed: bool
    limit: int
    remaining: int
    reset_after_s: float  # until the window (or the oldest counted request) frees capacity
    retry_after_s: float  # 0 when allowed


class Judge(Protocol):
    """An optional model that judges content no deterministic detector can (an OpenAI-compatible endpoint)."""

    blocking: bool

    def judge(self, rule: str, content: str, *, timeout_s: float) -> JudgeVerdict: ...


@dataclass(frozen=True)
class JudgeVerdict:
    violated: bool
    explanation: str


@dataclass(frozen=True, slots=True)
class JudgeQuestion:
    """What a policy asks the judge: does ``content`` break ``rule``? Equal questions of one decision are
    asked once."""

    rule: str
    content: str


_ASKED_NOW = "judge.asked_now"
_JUDGE_TIMEOUT_S = 5.0


@dataclass(slots=True)
class Evaluation:
    """Everything an evaluator sees for one decision: the validated input and the shared services."""

    point: str
    scope: str | None
    input: BaseModel
    now: float
    snapshot: OrgSnapshot
    limiter: RateLimiter
    judge: Judge | None = None
    #: Scratch space shared by the policies of one decision (e.g. a parsed JSON body, extracted variables).
    memo: dict[str, Any] = field(default_factory=dict)
    #: ``time.monotonic()`` by which the decision must be answered (see :mod:`policyhub.evaluation.limits`).
    deadline: float = math.inf
    #: The judge's answers to the questions the policies declared (asked concurrently before evaluating).
    verdicts: dict[JudgeQuestion, JudgeVerdict | Exception] | None = None

    def check_deadline(self) -> None:
        """Raise :class:`DeadlineExceeded` once the decision's deadline has passed (evaluators that loop
        over their input call it as they go)."""
        if time.monotonic() > self.deadline:
            raise DeadlineExceeded("decision deadline exceeded")

    def verdict(self, question: JudgeQuestion) -> JudgeVerdict:
        """The judge's answer to a question the policy declared in :meth:`CompiledPolicy.judge_questions`;
        the judge's error (or the deadline) is raised as the policy's evaluation error."""
        answer = self.verdicts.get(question) if self.verdicts else None
        if answer is None:
            answer = self._ask_now(question)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def _ask_now(self, question: JudgeQuestion) -> JudgeVerdict | Exception:
        """A question the engine did not ask up front (an evaluator called on its own, as in a unit test):
        asked here, in the calling thread, once per decision (shared through ``memo``), within the deadline."""
        if self.judge is None:
            return RuntimeError("the judge was asked a question but no judge is configured")
        asked: dict[JudgeQuestion, JudgeVerdict | Exception] = self.memo.setdefault(_ASKED_NOW, {})
        if question not in asked:
            left = self.deadline - time.monotonic()
            timeout = getattr(self.judge, "timeout_s", _JUDGE_TIMEOUT_S)
            try:
                if left <= 0:
                    raise DeadlineExceeded("decision deadline exceeded before the judge was asked")
                asked[question] = self.judge.judge(question.rule, question.content, timeout_s=min(timeout, left))
            except Exception as exc:
                asked[question] = exc
        return asked[question]


class CompiledPolicy(ABC):
    """A policy version compiled once by its type and cached; ``evaluate`` must be fast and side-effect free
    except for the counters it owns (rate limits)."""

    #: Services an evaluation may call that can block (``"limiter"``, ``"judge"``).
    uses: ClassVar[frozenset[str]] = frozenset()
    #: True when the evaluator bounds its details itself (about the engine's details cap, or a constant times
    #: its input): the engine then measures them exactly in one serialisation instead of walking them.
    #: False (unknown size): a walk that stops at the cap measures them, whatever their size.
    details_bounded: ClassVar[bool] = False

    def __init__(self, policy: Policy) -> None:
        self.policy_id = policy.id
        #: Evaluate even when an error occurs? The policy's own documented fail-open setting only.
        self.fail_open = False

    def applies(self, evaluation: Evaluation) -> bool:
        """A cheap pre-filter beyond scope selection (a JFrog stage/gate, a Kosli attachment)."""
        return True

    def order(self) -> tuple[Any, ...]:
        """Sort key among the policies of one decision (e.g. Apinizer's placement order); ties keep scope order."""
        return ()

    def judge_questions(self, evaluation: Evaluation) -> tuple[JudgeQuestion, ...]:
        """What this policy will ask the judge about this input (a policy that ``uses`` the judge declares
        it here). The engine asks them all at once, concurrently and within the decision's deadline, and
        ``evaluate`` reads the answers with :meth:`Evaluation.verdict`."""
        return ()

    @abstractmethod
    def evaluate(self, evaluation: Evaluation) -> Outcome:
        """Judge the input. Raising is an evaluation error: the engine denies (or allows when ``fail_open``)."""


class BrokenPolicy(CompiledPolicy):
    """A stored policy that failed to compile: every evaluation is an error (never a silent allow)."""

    def __init__(self, policy: Policy, error: str) -> None:
        super().__init__(policy)
        self.error = error

    def evaluate(self, evaluation: Evaluation) -> Outcome:
        raise CompileError(self.error)


class CompileError(Exception):
    """A policy version could not be compiled (bad Rego, a missing referenced rule...)."""
