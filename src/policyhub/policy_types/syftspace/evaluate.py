"""Evaluators of the Syft Space endpoint policies at the ``http_request`` point (request phase).

Semantics follow Syft Space's own policy types (OpenMined/syft-space,
``backend/syft_space/components/policy_types/{rate_limit,access,accounting}`` and ``shared/utils.py``):

- Users are the sender's email (``input.user``; a request without one is the empty string) and are
  matched case-insensitively with shell globs (``fnmatch`` on lower-cased strings: ``*``, ``?``, ``[seq]``),
  run by RE2 (:mod:`policyhub.sandbox.glob`): linear in the address, however the glob is written.
- ``rate_limit``: applies to users matching ``applied_to``; one counter per user (``per_user``) or one
  for the endpoint (``global``); Syft Space's window is sliding, and so is this one. All rate limits
  must pass (AND); they run most restrictive first (lowest count), and a request refused by one is
  not counted by the later ones (the engine stops counting after a deny).
- ``access``: within one policy, the most specific matching deny pattern and the most specific
  matching allow pattern are compared: the allow wins only when strictly more specific (deny wins
  ties); no match allows when ``allowed_users`` is empty, else denies. Specificity: ``*`` scores 0, a
  pattern without ``*`` scores its length + 100, any other its length minus 3 per ``*`` (literal
  characters minus twice the wildcards). Across the access policies of an endpoint Syft Space grants
  access when *any* of them allows (OR): here each access policy answers for the whole set, so a
  policy that would deny passes when another enforced access policy selected for the same scope
  allows the user. Policies in ``warn``/``audit`` mode never grant access to others.
- ``accounting``: users matching ``applied_to`` are charged ``price`` per call: an obligation
  ``{"type": "charge", "price", "pricing_mode"}`` for the enforcement point (which holds the
  transaction token); a price of 0 charges nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, cast

from policyhub.domain.records import Enforcement, Policy
from policyhub.evaluation.compiled import CompiledPolicy, Evaluation
from policyhub.evaluation.counters import counter_key
from policyhub.evaluation.obligations import rate_obligation
from policyhub.evaluation.outcome import Outcome, Status
from policyhub.sandbox.glob import glob_matcher
from policyhub.sandbox.regex import PatternBudget

if TYPE_CHECKING:
    from policyhub.evaluation.inputs.http_request import HttpRequestInput
    from policyhub.policy_types.syftspace import AccessConfig, AccountingConfig, RateLimitConfig

UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}
UNIT_WORDS = {"s": "second", "m": "minute", "h": "hour"}
#: Order among Syft Space policies: access, then rate limits (most restrictive first), then accounting.
STAGE_ACCESS, STAGE_RATE_LIMIT, STAGE_ACCOUNTING = 0, 1, 2
FAMILY = 0  # Syft Space policies sort before Apinizer's (they never share an endpoint in practice)


def specificity(pattern: str) -> int:
    """Syft Space's ``_pattern_specificity``: higher is more specific."""
    if pattern == "*":
        return 0
    wildcards = pattern.count("*")
    literals = len(pattern) - wildcards
    return literals + 100 if wildcards == 0 else literals - 2 * wildcards


def _no_deadline() -> None:
    return None


class Globs:
    """Email glob patterns compiled once; matching is case-insensitive. A list holds up to 10,000 globs,
    each linear in the address (up to ~1 ms for a glob RE2's DFA cannot cache), so the loops check the
    decision's deadline as they go."""

    def __init__(self, patterns: list[str], budget: PatternBudget | None = None) -> None:
        self.patterns = patterns
        self.everyone = "*" in patterns
        budget = budget or PatternBudget()
        compiled = [(p, glob_matcher(p.lower(), budget), specificity(p)) for p in patterns]
        # Most specific first, so the first match is the best one (ties keep the written order).
        self._by_specificity: list[tuple[str, Callable[[str], Any], int]] = sorted(compiled, key=lambda c: -c[2])

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def matches(self, user: str, check_deadline: Callable[[], None] = _no_deadline) -> bool:
        return self.everyone or self.best(user, check_deadline) is not None

    def best(self, user: str, check_deadline: Callable[[], None] = _no_deadline) -> tuple[str, int] | None:
        """The most specific pattern matching ``user`` (lower-cased) and its score, or None."""
        for pattern, match, score in self._by_specificity:
            check_deadline()
            if match(user):
                return pattern, score
        return None


def _user(evaluation: Evaluation) -> str:
    return (cast("HttpRequestInput", evaluation.input).user or "").lower()


class _SyftSpacePolicy(CompiledPolicy):
    stage: ClassVar[int]
    details_bounded = True  # a few scalars: the limit, scope, remaining count, or the user (<= 320 chars)

    def __init__(self, policy: Policy) -> None:
        super().__init__(policy)
        self.name = policy.name
        self.org_id = policy.org_id

    def applies(self, evaluation: Evaluation) -> bool:
        return cast("HttpRequestInput", evaluation.input).phase == "request"

    def order(self) -> tuple[Any, ...]:
        return (FAMILY, 0, self.stage, 0)


class CompiledRateLimit(_SyftSpacePolicy):
    uses = frozenset({"limiter"})
    stage = STAGE_RATE_LIMIT

    def __init__(self, policy: Policy, config: RateLimitConfig) -> None:
        super().__init__(policy)
        count, unit = config.limit.split("/")
        self.limit = int(count)
        self.window_s = UNIT_SECONDS[unit]
        self.per_user = config.scope == "per_user"
        self.scope = config.scope
        self.applied_to = Globs(config.applied_to)
        self.limit_text = config.limit
        self.friendly = f"{self.limit} requests per 1 {UNIT_WORDS[unit]}(s)"

    def order(self) -> tuple[Any, ...]:
        return (FAMILY, 0, self.stage, self.limit)

    def evaluate(self, evaluation: Evaluation) -> Outcome:
        user = _user(evaluation)
        if not self.applied_to.matches(user, evaluation.check_deadline):
            return Outcome.not_applicable(f"user {user!r} does not match applied_to")
        identity = "u:" + user if self.per_user else "g"
        key = counter_key(self.org_id, self.policy_id, "-", identity)
        state = evaluation.limiter.hit(key, self.limit, self.window_s, sliding=True, now=evaluation.now)
        details = {"limit": self.limit_text, "scope": self.scope, "remaining": state.remaining}
        obligations = [rate_obligation(state, self.window_s)]
        if state.allowed:
            reason = f"within the rate limit of {self.friendly} ({state.remaining} left)"
            return Outcome(Status.PASS, [reason], obligations=obligations, details=details)
        retry = max(1, round(state.retry_after_s))
        reason = (
            f"Rate limit exceeded: {self.friendly}. Requests in window: {self.limit - state.remaining}. "
            f"Try again in {retry}s."
        )
        details["reset_seconds"] = retry
        return Outcome(Status.VIOLATION, [reason], obligations=obligations, details=details)


class CompiledAccess(_SyftSpacePolicy):
    stage = STAGE_ACCESS

    def __init__(self, policy: Policy, config: AccessConfig) -> None:
        super().__init__(policy)
        self.enforced = policy.enforcement is Enforcement.ENFORCE
        budget = PatternBudget()  # the policy's globs together, as when it was written
        self.allowed = Globs(config.allowed_users, budget)
        self.denied = Globs(config.denied_users, budget)

    def check(self, user: str, check_deadline: Callable[[], None] = _no_deadline) -> tuple[bool, str]:
        """Syft Space's ``_check_access`` for one policy: (allowed, why)."""
        deny = self.denied.best(user, check_deadline)
        allow = self.allowed.best(user, check_deadline)
        if deny is None and allow is None:
            if not self.allowed:
                return True, "Open access (no whitelist configured)"
            return False, "User does not match any allowed pattern"
        if allow is not None and (deny is None or allow[1] > deny[1]):
            return True, f"User matches allowed pattern '{allow[0]}'"
        assert deny is not None
        return False, f"User matches denied pattern '{deny[0]}'"

    def evaluate(self, evaluation: Evaluation) -> Outcome:
        user = _user(evaluation)
        allowed, why = self.check(user, evaluation.check_deadline)
        if allowed:
            return Outcome.passed(why)
        granted_by = _access_granted_by(evaluation, user)
        if granted_by is not None:
            return Outcome.passed(
                f"{why}, but access policy {granted_by!r} allows the user (any access policy may grant access)"
            )
        return Outcome.violated(f"Access denied: {why}", user=user)


def _access_granted_by(evaluation: Evaluation, user: str) -> str | None:
    """The first enforced access policy selected for this decision's scope that allows ``user`` (once
    per decision)."""
    memo_key = "syftspace.access.granted_by"
    if memo_key in evaluation.memo:
        return cast("str | None", evaluation.memo[memo_key])
    granted_by = None
    for entry in evaluation.snapshot.at_scope(evaluation.point, evaluation.scope):
        compiled = entry.compiled
        if not isinstance(compiled, CompiledAccess) or not compiled.enforced:
            continue
        if compiled.check(user, evaluation.check_deadline)[0]:
            granted_by = entry.policy.name
            break
    evaluation.memo[memo_key] = granted_by
    return granted_by


class CompiledAccounting(_SyftSpacePolicy):
    stage = STAGE_ACCOUNTING

    def __init__(self, policy: Policy, config: AccountingConfig) -> None:
        super().__init__(policy)
        self.price = config.price
        self.pricing_mode = config.pricing_mode
        self.applied_to = Globs(config.applied_to)

    def evaluate(self, evaluation: Evaluation) -> Outcome:
        user = _user(evaluation)
        if not self.applied_to.matches(user, evaluation.check_deadline):
            return Outcome.not_applicable(f"user {user!r} does not match applied_to")
        if self.price == 0:
            return Outcome.passed("free: price 0 per call")
        charge = {"type": "charge", "price": self.price, "pricing_mode": self.pricing_mode}
        return Outcome(Status.PASS, [f"charge {self.price} per call"], obligations=[charge])
