"""Evaluators of the Apinizer traffic policies at ``http_request``: throttling, quota, IP lists.

**Placement and pipeline order.** An Apinizer policy lives at its API proxy's scope; where it runs is
in ``attributes["apinizer"]`` (written by the ``/apiops`` dialect): ``targetPipeline`` (REQUEST,
RESPONSE, ERROR), ``targetScope`` (ALL, or ENDPOINT with ``targetEndpoint`` and
``targetEndpointHTTPMethod``) and the 1-based ``order`` within that list. A policy takes part only in
decisions of its pipeline (``input.phase``: request, response, error) and, when placed on an
endpoint, only for requests to that endpoint: the method matches (``ALL`` matches any) and the path
is the endpoint's (``{name}`` segments match any one segment), with or without the proxy's
``relativePath`` in front. Results follow the gateway's pipeline: the proxy-wide (ALL) list first, then
the endpoint's list, each by ``order`` (Apinizer runs the API-proxy policies before the method's; the
order between the two lists is not documented, this one is the natural reading). A policy without a
placement (written through ``/v1``) runs in the request pipeline for every endpoint, after the placed
ones.

**Gates.** ``active: false`` and a ``policyCondition`` that does not hold make the policy not apply
(``not_applicable``), so a request it does not concern is never counted against its limits.

**Rate limits** (``policy-api-based-throttling``, ``policy-api-based-quota``). The identity is the
value of ``targetVariableForIdentity`` (requests without one share one counter, so leaving the header
out does not escape the limit). The first ``detailList`` entry whose ``targetValue`` equals the
identity (or, with ``regexExpression``, matches all of it, as Java's ``String.matches``) replaces the
limit and interval and has a counter of its own. Patterns run on RE2 (:mod:`policyhub.sandbox.regex`):
linear in the identity; a pattern RE2 cannot run (backreferences, lookarounds) is refused when the
policy is written, and an identity longer than :data:`MAX_MATCHED_IDENTITY_CHARS` that a pattern would
be tried on is an evaluation error (a deny, even fail-open).
Intervals: ``ONE_SECOND``/``MINUTE``/``HOUR``/``DAY`` and ``ONE_MONTH`` = 30 days, times
``intervalPeriodLength``; windows are aligned to the Unix epoch (UTC) and ``intervalWindowType``
picks fixed or sliding (see :mod:`policyhub.engine.ratelimit.windows`).
The counter store is given ``cacheConnectionTimeoutInSeconds`` as its timeout; when it fails, the
policy's ``cacheErrorHandlingType`` decides: ``FAIL`` (the default) denies, ``ALLOW`` (throttling) /
``CONTINUE`` (quota) let the request through, marked as an error. Every result carries a
``rate_limit`` obligation, plus an ``X-RateLimit-*`` headers obligation when
``showRateLimitStatisticsInResponseHeader`` is set.

**IP lists** (``policy-white-ip`` allows only listed addresses, ``policy-black-ip`` refuses them):
addresses and CIDR ranges, IPv4 and IPv6 (an IPv4-mapped IPv6 client counts as IPv4). The client IP
is ``targetVariableForIP`` when set (the first address of a list such as ``X-Forwarded-For``; a port
is ignored), else ``input.client_ip``. A request whose client IP is missing or invalid is refused by
both kinds (the list cannot be checked).
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from policyhub.domain.records import Policy
from policyhub.evaluation.compiled import CompiledPolicy, Evaluation
from policyhub.evaluation.counters import counter_key
from policyhub.evaluation.obligations import headers_obligation, rate_obligation
from policyhub.evaluation.outcome import Outcome, Status
from policyhub.policy_types.apinizer.common import PolicySpec
from policyhub.policy_types.apinizer.conditions import compile_condition
from policyhub.policy_types.apinizer.traffic import (
    IpListPolicy,
    QuotaDetail,
    QuotaPolicy,
    ThrottlingDetail,
    ThrottlingPolicy,
)
from policyhub.policy_types.apinizer.variables import compile_variable, text
from policyhub.sandbox.regex import PatternBudget, SafePattern, SubjectTooLong, compile_pattern, escape

if TYPE_CHECKING:
    from policyhub.evaluation.inputs.http_request import HttpRequestInput

FAMILY = 1  # after Syft Space's policies (see syftspace.evaluate.FAMILY)
UNORDERED = 2**31
PHASES = {"REQUEST": "request", "RESPONSE": "response", "ERROR": "error"}
PIPELINE_RANK = {"request": 0, "response": 1, "error": 2}
INTERVAL_S = {
    "ONE_SECOND": 1,
    "ONE_MINUTE": 60,
    "ONE_HOUR": 3600,
    "ONE_DAY": 86_400,
    "ONE_MONTH": 30 * 86_400,
}
#: Longest identity matched against ``detailList`` patterns (as the request path: gateways refuse longer
#: header lines by default). RE2 is linear, but a pattern its DFA cannot cache costs about 1 us a character.
MAX_MATCHED_IDENTITY_CHARS = 8192


# -- placement ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Placement:
    phase: str
    level: int  # 0: the whole proxy (ALL); 1: one endpoint
    order: int
    method: str | None = None  # None: any method
    endpoint: SafePattern | None = None

    def matches(self, evaluation: Evaluation, scope_id: str | None) -> bool:
        inp = cast("HttpRequestInput", evaluation.input)
        if inp.phase != self.phase:
            return False
        if self.endpoint is None:
            return True
        if self.method is not None and inp.method.upper() != self.method:
            return False
        path = inp.path.split("?", 1)[0]
        if self.endpoint.fullmatch(path):
            return True
        relative = _relative_path(evaluation, scope_id)
        return bool(relative) and path.startswith(relative) and bool(self.endpoint.fullmatch(path[len(relative) :]))


def placement_of(policy: Policy) -> Placement:
    attrs = policy.attributes.get("apinizer")
    attrs = attrs if isinstance(attrs, dict) else {}
    pipeline = attrs.get("targetPipeline")
    phase = PHASES.get(pipeline, "request") if isinstance(pipeline, str) else "request"
    order = attrs.get("order")
    position = order if isinstance(order, int) and not isinstance(order, bool) else UNORDERED
    endpoint = attrs.get("targetEndpoint")
    if attrs.get("targetScope") != "ENDPOINT" or not isinstance(endpoint, str):
        return Placement(phase, 0, position)
    method = attrs.get("targetEndpointHTTPMethod")
    method = method.upper() if isinstance(method, str) and method.upper() != "ALL" else None
    return Placement(phase, 1, position, method, _endpoint_pattern(endpoint))


def _endpoint_pattern(endpoint: str) -> SafePattern:
    parts = re.split(r"\{[^{}/]*\}", "/" + endpoint.strip("/"))
    return compile_pattern("[^/]+".join(escape(part) for part in parts) + "/?")


def _relative_path(evaluation: Evaluation, scope_id: str | None) -> str:
    scope = evaluation.snapshot.scope(scope_id) if scope_id else None
    attrs = scope.attributes.get("apinizer") if scope is not None else None
    relative = attrs.get("relativePath") if isinstance(attrs, dict) else None
    return relative.rstrip("/") if isinstance(relative, str) else ""


class ApinizerPolicy(CompiledPolicy):
    """What every evaluable Apinizer policy shares: placement, ``active``, ``policyCondition``."""

    details_bounded = True  # a few scalars: the limit, its period, whether an override applied

    def __init__(self, policy: Policy, spec: PolicySpec) -> None:
        super().__init__(policy)
        self.org_id = policy.org_id
        self.scope_id = policy.scope_id
        self.placement = placement_of(policy)
        self.active = spec.active
        self.condition = compile_condition(spec.policyCondition)

    def applies(self, evaluation: Evaluation) -> bool:
        return self.active and self.placement.matches(evaluation, self.scope_id)

    def order(self) -> tuple[Any, ...]:
        placement = self.placement
        return (FAMILY, PIPELINE_RANK[placement.phase], placement.level, placement.order)

    def evaluate(self, evaluation: Evaluation) -> Outcome:
        if self.condition is not None and not self.condition(evaluation):
            return Outcome.not_applicable("the policy condition does not hold")
        return self.decide(evaluation)

    def decide(self, evaluation: Evaluation) -> Outcome:
        raise NotImplementedError


# -- rate limits ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Limit:
    rule: str  # the counter's name within the policy: "-" or "d<hash of the override>"
    count: int
    window_s: int
    period: str  # "1 minute", "30 days"


class CompiledRateLimit(ApinizerPolicy):
    uses = frozenset({"limiter"})

    def __init__(self, policy: Policy, spec: ThrottlingPolicy | QuotaPolicy) -> None:
        super().__init__(policy, spec)
        interval = spec.throttlingInterval if isinstance(spec, ThrottlingPolicy) else spec.quotaInterval
        self.label = "Throttling" if isinstance(spec, ThrottlingPolicy) else "Quota"
        self.main = _limit("-", spec.messageCountForInterval, interval, spec.intervalPeriodLength)
        self.sliding = spec.intervalWindowType == "SLIDING"
        self.identity = compile_variable(spec.targetVariableForIdentity)
        self.timeout_s = float(spec.cacheConnectionTimeoutInSeconds)
        self.fail_open = spec.cacheErrorHandlingType in ("ALLOW", "CONTINUE")
        self.show_headers = spec.showRateLimitStatisticsInResponseHeader
        self._exact: dict[str, tuple[int, Limit]] = {}
        self._patterns: list[tuple[int, Callable[[str], bool], Limit]] = []
        details = cast("list[ThrottlingDetail | QuotaDetail]", spec.detailList)
        budget = PatternBudget()
        for index, detail in enumerate(details):
            digest = hashlib.sha256(f"{detail.regexExpression}\n{detail.targetValue}".encode()).hexdigest()[:16]
            count, length = detail.messageCountForInterval, detail.intervalPeriodLength
            limit = _limit(f"d{digest}", count, detail.quotaInterval, length)
            if detail.regexExpression:
                self._patterns.append((index, budget.compile(detail.targetValue).fullmatch, limit))
            else:
                self._exact.setdefault(detail.targetValue, (index, limit))

    def limit_for(self, identity: str, check_deadline: Callable[[], None] = lambda: None) -> Limit:
        """The first ``detailList`` entry that matches ``identity``, else the policy's own limit
        (``check_deadline`` runs before each pattern: up to 1,000 of them, each linear in the identity)."""
        exact = self._exact.get(identity)
        for index, match, limit in self._patterns:
            if exact is not None and index > exact[0]:
                break
            if len(identity) > MAX_MATCHED_IDENTITY_CHARS:
                raise SubjectTooLong(f"identity of {len(identity)} characters, over {MAX_MATCHED_IDENTITY_CHARS}")
            check_deadline()
            if match(identity):
                return limit
        return exact[1] if exact is not None else self.main

    def decide(self, evaluation: Evaluation) -> Outcome:
        identity = text(self.identity(evaluation)) or ""
        try:
            limit = self.limit_for(identity, evaluation.check_deadline)
        except SubjectTooLong as exc:  # not a counter-store error: cacheErrorHandlingType does not apply
            return Outcome.violated(f"evaluation error: the identity cannot be matched against detailList: {exc}")
        state = evaluation.limiter.hit(
            counter_key(self.org_id, self.policy_id, limit.rule, identity),
            limit.count,
            limit.window_s,
            sliding=self.sliding,
            now=evaluation.now,
            timeout_s=self.timeout_s,
        )
        obligations = [rate_obligation(state, limit.window_s)]
        if self.show_headers:
            obligations.append(headers_obligation(state))
        details = {"limit": limit.count, "period": limit.period, "override": limit.rule != "-"}
        if state.allowed:
            reason = f"{state.remaining} of {limit.count} messages per {limit.period} left"
            return Outcome(Status.PASS, [reason], obligations=obligations, details=details)
        retry = max(1, math.ceil(state.retry_after_s))
        reason = f"{self.label} limit exceeded: {limit.count} messages per {limit.period}; retry in {retry}s"
        return Outcome(Status.VIOLATION, [reason], obligations=obligations, details=details)


def _limit(rule: str, count: int, interval: str, length: int) -> Limit:
    unit = interval.removeprefix("ONE_").lower()
    return Limit(rule, count, INTERVAL_S[interval] * length, f"{length} {unit}" + ("s" if length != 1 else ""))


# -- IP lists -------------------------------------------------------------------------------------------
class IpSet:
    """Addresses and CIDR ranges, looked up by prefix length (one set probe per length in use)."""

    def __init__(self, entries: list[str]) -> None:
        self._v4: dict[int, set[int]] = {}
        self._v6: dict[int, set[int]] = {}
        for entry in entries:
            network = ipaddress.ip_network(entry, strict=False)
            table = self._v4 if network.version == 4 else self._v6
            shift = network.max_prefixlen - network.prefixlen
            table.setdefault(shift, set()).add(int(network.network_address) >> shift)

    def __contains__(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        table = self._v4 if address.version == 4 else self._v6
        value = int(address)
        return any((value >> shift) in prefixes for shift, prefixes in table.items())


def client_address(raw: Any) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The first address of ``raw`` (``"1.2.3.4, 10.0.0.1"``, ``"[::1]:443"``, ``"1.2.3.4:80"``), or None."""
    value = text(raw)
    if not value:
        return None
    value = value.split(",", 1)[0].strip()
    if value.startswith("["):
        value = value[1:].split("]", 1)[0]
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class CompiledIpList(ApinizerPolicy):
    def __init__(self, policy: Policy, spec: IpListPolicy, *, allow_list: bool) -> None:
        super().__init__(policy, spec)
        self.allow_list = allow_list
        self.addresses = IpSet(spec.ipList)
        self.source = compile_variable(spec.targetVariableForIP) if spec.targetVariableForIP else None

    def decide(self, evaluation: Evaluation) -> Outcome:
        raw = self.source(evaluation) if self.source else cast("HttpRequestInput", evaluation.input).client_ip
        address = client_address(raw)
        kind = "allowed" if self.allow_list else "blocked"
        if address is None:
            return Outcome.violated(f"no valid client IP ({raw!r}): the {kind} IP list cannot be checked")
        listed = address in self.addresses
        if listed == self.allow_list:
            return Outcome.passed(f"client IP {address} is {'in' if listed else 'not in'} the {kind} IP list")
        return Outcome.violated(f"client IP {address} is {'in' if listed else 'not in'} the {kind} IP list")


# -- the types that decide ---------------------------------------------------------------------------
def compile_apinizer(apinizer_type: str, spec: PolicySpec, policy: Policy) -> CompiledPolicy:
    """The evaluator of a policy of one of :data:`EVALUATED_TYPES`."""
    if isinstance(spec, ThrottlingPolicy | QuotaPolicy):
        return CompiledRateLimit(policy, spec)
    if isinstance(spec, IpListPolicy):
        return CompiledIpList(policy, spec, allow_list=apinizer_type == "policy-white-ip")
    raise ValueError(f"Apinizer policy type {apinizer_type!r} takes no part in decisions")
