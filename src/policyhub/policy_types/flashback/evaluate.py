"""The compiled Flashback AI policy: detectors first, the judge for what they cannot see.

``actionType`` sets how a violation bites: 0 (log) → severity LOG, effect ``audit`` (recorded, the
decision stays allow); 1 (alert) → WARN, effect ``warn`` (the content passes, the decision is ``warn``
so the gateway can notify, and it is listed under ``/policy/alerts``); 2 (block) → BLOCK, effect ``deny``.

Errors (a judge timeout, a malformed judge answer, no judge for a policy that needs one) are raised, so
the engine marks the result ``error: true``. A block policy then denies (fail closed); a log or alert
policy could never have blocked, so it is fail-open: the result is ``allow`` with ``error: true`` and the
reason. A policy whose content names nothing a detector finds, with no judge configured, is such an error:
it is never silently skipped.
"""

from __future__ import annotations

from typing import Any, ClassVar

from policyhub.domain.records import Policy
from policyhub.evaluation.compiled import CompiledPolicy, Evaluation, JudgeQuestion
from policyhub.evaluation.outcome import Outcome, Severity
from policyhub.policy_types.flashback.detectors import DETECTORS, Finding, TextView, resolve
from policyhub.policy_types.flashback.masking import MAX_REPORTED, mask_everything, report
from policyhub.policy_types.flashback.vocabulary import Selection

SEVERITY = {0: Severity.LOG, 1: Severity.WARN, 2: Severity.BLOCK}
ACTION = {0: "log", 1: "alert", 2: "block"}
MAX_EXPLANATION = 500
_MEMO = "flashback.findings"


class JudgeUnavailable(Exception):
    """The policy needs the judge and none is configured."""


class FlashbackPolicy(CompiledPolicy):
    """A policy whose content activates at least one detector and names nothing they cannot see."""

    details_bounded = True  # its summary, the judge's cut explanation, at most MAX_REPORTED matches

    def __init__(self, policy: Policy, selection: Selection) -> None:
        super().__init__(policy)
        spec = policy.spec
        self.rule: str = spec["content"]
        self.action_type: int = spec["actionType"]
        self.severity = SEVERITY[self.action_type]
        self.fail_open = self.action_type != 2  # a policy that cannot block must not block by error
        self.detectors = tuple(DETECTORS[name] for name in selection.detectors)
        meta = policy.attributes.get("flashback")
        name = meta.get("name") if isinstance(meta, dict) else None
        #: The policy's part of every result's details (shared, never mutated).
        self.summary: dict[str, Any] = {
            "mode": selection.mode,
            "detectors": list(selection.detectors),
            "riskType": spec["riskType"],
            "actionType": self.action_type,
            "action": ACTION[self.action_type],
            "policyName": name if isinstance(name, str) else policy.name,
        }
        if selection.uncovered:
            self.summary["uncovered"] = list(selection.uncovered)
        names = ", ".join(selection.detectors)
        self._clean = {d: f"no {names} found in the {d}" for d in ("prompt", "response")}

    def evaluate(self, evaluation: Evaluation) -> Outcome:
        content: str = evaluation.input.content  # type: ignore[attr-defined]
        direction: str = evaluation.input.direction  # type: ignore[attr-defined]
        findings = self.scan(content, evaluation.memo)
        if findings:
            return self.violated(content, direction, findings)
        return Outcome.passed(self._clean[direction], **self.summary)

    def scan(self, content: str, memo: dict[Any, Any]) -> list[Finding]:
        """This policy's findings; each detector runs once per decision (memo), however many policies use it."""
        cache: dict[str, Any] = memo.get(_MEMO) or memo.setdefault(_MEMO, {"": TextView(content)})
        found: list[Finding] = []
        for detector in self.detectors:
            hits = cache.get(detector.name)
            if hits is None:
                hits = cache[detector.name] = detector.find(cache[""])
            found.extend(hits)
        return resolve(found) if len(found) > 1 else found

    def violated(self, content: str, direction: str, findings: list[Finding]) -> Outcome:
        shown = "; ".join(f"{f.detector}{f' ({f.kind})' if f.kind else ''} at {f.start}-{f.end}" for f in findings[:5])
        more = f" and {len(findings) - 5} more" if len(findings) > 5 else ""
        return Outcome.violated(
            f"{len(findings)} finding(s) in the {direction}: {shown}{more}",
            severity=self.severity,
            **self.summary,
            direction=direction,
            matches=report(content, findings),
            match_count=len(findings),
            **({"matches_truncated": True} if len(findings) > MAX_REPORTED else {}),
        )


class JudgedPolicy(FlashbackPolicy):
    """A policy that needs the judge: for everything (no detector) or for what its detectors passed."""

    uses: ClassVar[frozenset[str]] = frozenset({"judge"})

    def judge_questions(self, evaluation: Evaluation) -> tuple[JudgeQuestion, ...]:
        """The rule, about this content, unless a detector already found something (then no call is made).
        The engine asks every policy's question at once (policies with the same rule share one call),
        concurrently, bounded per org and within the decision's deadline."""
        content: str = evaluation.input.content  # type: ignore[attr-defined]
        if evaluation.judge is None or (self.detectors and self.scan(content, evaluation.memo)):
            return ()
        return (JudgeQuestion(self.rule, content),)

    def evaluate(self, evaluation: Evaluation) -> Outcome:
        content: str = evaluation.input.content  # type: ignore[attr-defined]
        direction: str = evaluation.input.direction  # type: ignore[attr-defined]
        if self.detectors:
            findings = self.scan(content, evaluation.memo)
            if findings:
                return self.violated(content, direction, findings)
        judge = evaluation.judge
        if judge is None:
            if not self.detectors:
                raise JudgeUnavailable(
                    "the policy's content names nothing a built-in detector can find and no judge is configured "
                    "(POLICYHUB_JUDGE_URL)"
                )
            unchecked = ", ".join(self.summary.get("uncovered", ()))
            return Outcome.passed(
                f"{self._clean[direction]}; not checked ({unchecked}): no judge is configured",
                **self.summary,
                judge=None,
            )
        verdict = evaluation.verdict(JudgeQuestion(self.rule, content))
        explanation = mask_everything(verdict.explanation)[:MAX_EXPLANATION]
        details = {**self.summary, "judge": {"violated": verdict.violated, "explanation": explanation}}
        if verdict.violated:
            return Outcome.violated(
                f"judge: {explanation}", severity=self.severity, **details, direction=direction, match_count=0
            )
        return Outcome.passed(f"judge: {explanation}", **details)

