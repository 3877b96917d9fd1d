"""An ``access_rules`` policy compiled: globs as linear-time matchers, conditions as small closures.

Evaluation is one pass over the rules (at most 200), each a few dictionary reads and matcher calls;
``detects`` scans at most :data:`MAX_SCAN_CHARS` of text per condition with the ``ai_content`` point's
deterministic detectors (never the judge).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

from policyhub.domain.records import Policy
from policyhub.evaluation.compiled import CompiledPolicy, Evaluation
from policyhub.evaluation.counters import counter_key
from policyhub.evaluation.inputs.authzen import AuthzenInput, EntityKind
from policyhub.evaluation.obligations import rate_obligation
from policyhub.evaluation.outcome import Outcome
from policyhub.policy_types.access_rules.directory import known
from policyhub.policy_types.flashback.detectors import ALL_PII, ALL_SECRETS, DETECTORS, find_all
from policyhub.sandbox.glob import glob_matcher
from policyhub.sandbox.regex import PatternBudget

MAX_SCAN_CHARS = 65_536
MAX_SCAN_DEPTH = 16
_MISSING = object()
Test = Callable[[dict[str, Any]], bool]


def resolve(document: dict[str, Any], path: tuple[str, ...]) -> Any:
    """The value at ``path`` in the request document, or ``_MISSING``."""
    value: Any = document
    for part in path:
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _strings(value: Any, depth: int = 0) -> Iterator[str]:
    if depth > MAX_SCAN_DEPTH:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key, depth + 1)
            yield from _strings(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, depth + 1)


def scan_text(value: Any) -> str:
    """Every string under ``value`` (keys too), one per line, cut at :data:`MAX_SCAN_CHARS`."""
    out: list[str] = []
    size = 0
    for text in _strings(value):
        out.append(text[: MAX_SCAN_CHARS - size])
        size += len(out[-1]) + 1
        if size >= MAX_SCAN_CHARS:
            break
    return "\n".join(out)


def same(a: Any, b: Any) -> bool:
    """JSON equality: ``true`` is not ``1`` (Python's ``==`` says it is)."""
    return a == b and isinstance(a, bool) == isinstance(b, bool)


def _contains(value: Any, item: Any) -> bool:
    """An array holding ``item``, or a string holding the string ``item``."""
    if isinstance(value, list):
        return any(same(v, item) for v in value)
    return isinstance(value, str) and isinstance(item, str) and item in value


def detector_names(names: list[str]) -> tuple[str, ...]:
    chosen: list[str] = []
    for name in names:
        group = {"pii": ALL_PII, "secrets": ALL_SECRETS, "all": tuple(DETECTORS)}.get(name, (name,))
        chosen += [n for n in group if n not in chosen]
    return tuple(chosen)


def _matcher(value: str | list[str] | None, budget: PatternBudget) -> Callable[[str], bool] | None:
    if value is None:
        return None
    matchers = [glob_matcher(g, budget) for g in ([value] if isinstance(value, str) else value)]
    if len(matchers) == 1:
        return matchers[0]
    return lambda text: any(m(text) for m in matchers)


def _condition(spec: dict[str, Any], budget: PatternBudget) -> Test:
    path = tuple(spec["path"].split("."))
    test: Callable[[Any, dict[str, Any]], bool]
    if "equals" in spec:
        expected = spec["equals"]
        test = lambda v, d: same(v, expected)  # noqa: E731
    elif "in" in spec:
        options = spec["in"]
        test = lambda v, d: any(same(v, o) for o in options)  # noqa: E731
    elif "contains" in spec:
        item = spec["contains"]
        test = lambda v, d: _contains(v, item)  # noqa: E731
    elif "glob" in spec:
        matches = glob_matcher(spec["glob"], budget)
        test = lambda v, d: isinstance(v, str) and matches(v)  # noqa: E731
    elif "equals_path" in spec:
        other = tuple(spec["equals_path"].split("."))
        test = lambda v, d: same(v, resolve(d, other))  # noqa: E731
    else:
        names = detector_names(spec["detects"])
        test = lambda v, d: bool(find_all(scan_text(v), names))  # noqa: E731
    negate = bool(spec.get("negate"))

    def holds(document: dict[str, Any]) -> bool:
        value = resolve(document, path)
        return (value is not _MISSING and test(value, document)) != negate

    return holds


@dataclass
class CompiledRule:
    index: int
    name: str
    effect: str
    reason: str | None
    subject: tuple[Callable[[str], bool] | None, Callable[[str], bool] | None]
    resource: tuple[Callable[[str], bool] | None, Callable[[str], bool] | None]
    action: Callable[[str], bool] | None
    conditions: list[Test]
    rate_limit: dict[str, Any] | None
    obligations: list[dict[str, Any]] = field(default_factory=list)

    def matches(self, asked: AuthzenInput, document: dict[str, Any]) -> bool:
        for matcher, text in (
            (self.subject[0], asked.subject.type),
            (self.subject[1], asked.subject.id),
            (self.resource[0], asked.resource.type),
            (self.resource[1], asked.resource.id),
            (self.action, asked.action.name),
        ):
            if matcher is not None and not matcher(text):
                return False
        return all(holds(document) for holds in self.conditions)


def compile_rule(index: int, spec: dict[str, Any], budget: PatternBudget) -> CompiledRule:
    subject, resource = spec.get("subject") or {}, spec.get("resource") or {}
    return CompiledRule(
        index=index,
        name=str(spec.get("id") or f"rule {index}"),
        effect=str(spec.get("effect", "allow")),
        reason=spec.get("reason"),
        subject=(_matcher(subject.get("type"), budget), _matcher(subject.get("id"), budget)),
        resource=(_matcher(resource.get("type"), budget), _matcher(resource.get("id"), budget)),
        action=_matcher((spec.get("action") or {}).get("name"), budget),
        conditions=[_condition(c, budget) for c in spec.get("when") or ()],
        rate_limit=spec.get("rate_limit"),
        obligations=list(spec.get("obligations") or ()),
    )


def _literals(value: str | list[str] | None) -> list[str]:
    values = [] if value is None else [value] if isinstance(value, str) else value
    return [v for v in values if not any(c in v for c in "*?[")]


class CompiledAccessRules(CompiledPolicy):
    """The rules of one policy version, compiled once."""

    uses = frozenset({"limiter"})
    details_bounded = True

    def __init__(self, policy: Policy) -> None:
        super().__init__(policy)
        self.org_id = policy.org_id
        self.spec = policy.spec
        budget = PatternBudget()
        self.rules = [compile_rule(i, rule, budget) for i, rule in enumerate(policy.spec.get("rules") or ())]

    def known_entities(self, kind: EntityKind, entity_type: str | None) -> list[dict[str, Any]]:
        """The policy's directory, plus the literal ids (or action names) its rules name."""
        found = known(self.spec, kind, entity_type)
        for rule in self.spec.get("rules") or ():
            if kind == "action":
                found += [{"name": n, "properties": {}} for n in _literals((rule.get("action") or {}).get("name"))]
                continue
            pattern = rule.get(kind) or {}
            types = _literals(pattern.get("type"))
            for entity_id in _literals(pattern.get("id")):
                found += [{"type": t, "id": entity_id, "properties": {}} for t in types if t == entity_type]
        return found

    def evaluate(self, evaluation: Evaluation) -> Outcome:
        asked = cast(AuthzenInput, evaluation.input)
        document = evaluation.memo.get("authzen.document")
        if document is None:
            document = evaluation.memo["authzen.document"] = asked.document()
        allowed: list[CompiledRule] = []
        for rule in self.rules:
            if not rule.matches(asked, document):
                continue
            if rule.effect == "deny":
                return Outcome.violated(rule.reason or f"denied by {rule.name}", rule=rule.name)
            allowed.append(rule)
        if not allowed:
            return Outcome.violated("no rule allows this request")
        obligations: list[dict[str, Any]] = []
        for rule in allowed:
            obligations += rule.obligations
            if rule.rate_limit is not None and asked.mode == "evaluate":
                limited = self._count(evaluation, rule, document)
                obligations.append(limited[1])
                if limited[0] is not None:
                    outcome = Outcome.violated(limited[0], rule=rule.name)
                    outcome.obligations = obligations
                    return outcome
        reasons = [r.reason or f"allowed by {r.name}" for r in allowed[:5]]
        outcome = Outcome.passed(*reasons, rules=[r.name for r in allowed[:20]])
        outcome.obligations = obligations
        return outcome

    def _count(
        self, evaluation: Evaluation, rule: CompiledRule, document: dict[str, Any]
    ) -> tuple[str | None, dict[str, Any]]:
        """Count the request against the rule's limit: (a deny reason or None, the rate-limit obligation)."""
        limit = rule.rate_limit or {}
        per = resolve(document, tuple(str(limit.get("per", "subject.id")).split(".")))
        # the org's counter (limiters budget counters per org, by the key's first part), as other types name theirs
        key = counter_key(self.org_id, self.policy_id, f"r{rule.index}", "" if per is _MISSING else str(per))
        window = float(limit["window_s"])
        state = evaluation.limiter.hit(key, int(limit["limit"]), window, sliding=False, now=evaluation.now)
        reason = None if state.allowed else f"rate limit of {state.limit} per {window:g} s exceeded ({rule.name})"
        return reason, rate_obligation(state, window)
