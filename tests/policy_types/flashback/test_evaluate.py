"""The compiled Flashback policy: severities per actionType, details, memo, the judge paths, errors."""

from __future__ import annotations

import json
from typing import Any

import pytest

from policyhub.domain.records import Enforcement, Policy
from policyhub.engine.engine import effect_of
from policyhub.evaluation.compiled import Evaluation, JudgeVerdict
from policyhub.evaluation.inputs.ai_content import AiContentInput
from policyhub.evaluation.outcome import Effect, Severity, Status
from policyhub.policy_types.flashback import FlashbackAiType
from policyhub.policy_types.flashback.evaluate import FlashbackPolicy, JudgedPolicy, JudgeUnavailable
from tests.support.records import policy_record

CARD = "4111 1111 1111 1111"
TYPE = FlashbackAiType()


def policy(content: str, action: int = 2, risk: str = "HIGH", name: str = "Cards") -> Policy:
    return policy_record(
        "flashback.ai",
        {"content": content, "riskType": risk, "actionType": action},
        org_id="o-1",
        name="cards-1a2b3c4d",
        attributes={"flashback": {"name": name}},
    )


def evaluation(content: str, judge: Any = None, direction: str = "prompt", memo: dict[str, Any] | None = None) -> Any:
    return Evaluation(
        point="ai_content",
        scope=None,
        input=AiContentInput(content=content, direction=direction),  # type: ignore[arg-type]
        now=0.0,
        snapshot=None,  # type: ignore[arg-type]
        limiter=None,  # type: ignore[arg-type]
        judge=judge,
        memo=memo if memo is not None else {},
    )


class FakeJudge:
    blocking = False

    def __init__(self, violated: bool = True, explanation: str = "it does", error: Exception | None = None) -> None:
        self.violated, self.explanation, self.error = violated, explanation, error
        self.calls: list[tuple[str, str, float]] = []

    def judge(self, rule: str, content: str, *, timeout_s: float) -> JudgeVerdict:
        self.calls.append((rule, content, timeout_s))
        if self.error:
            raise self.error
        return JudgeVerdict(self.violated, self.explanation)


@pytest.mark.parametrize(
    ("action", "severity", "effect", "fail_open"),
    [
        (0, Severity.LOG, Effect.AUDIT, True),
        (1, Severity.WARN, Effect.WARN, True),
        (2, Severity.BLOCK, Effect.DENY, False),
    ],
)
def test_action_type_sets_severity_effect_and_failure_mode(
    action: int, severity: Severity, effect: Effect, fail_open: bool
) -> None:
    compiled = TYPE.compile(policy("no credit cards", action), None)  # type: ignore[arg-type]
    assert isinstance(compiled, FlashbackPolicy) and not isinstance(compiled, JudgedPolicy)
    assert compiled.fail_open is fail_open
    outcome = compiled.evaluate(evaluation(f"pay with {CARD} please"))
    assert outcome.status is Status.VIOLATION and outcome.severity is severity
    assert effect_of(outcome, Enforcement.ENFORCE) is effect


def test_violation_details_name_detectors_positions_and_masked_values_only() -> None:
    compiled = TYPE.compile(policy("Block credit card numbers or API keys", 2, "MEDIUM"), None)  # type: ignore[arg-type]
    text = f"card {CARD} and key AKIAZ7XQ3LMN4PQR5STU"
    outcome = compiled.evaluate(evaluation(text, direction="response"))
    details = outcome.details
    assert details["mode"] == "detectors" and "payment_card" in details["detectors"]
    assert (details["riskType"], details["actionType"], details["action"]) == ("MEDIUM", 2, "block")
    assert details["policyName"] == "Cards" and details["direction"] == "response" and details["match_count"] == 2
    assert [(m["detector"], m["start"], m["end"]) for m in details["matches"]] == [
        ("payment_card", 5, 24),
        ("aws_access_key", 33, 53),
    ]
    assert outcome.reasons == ["2 finding(s) in the response: payment_card (visa) at 5-24; aws_access_key at 33-53"]
    dumped = json.dumps(details) + json.dumps(outcome.reasons)
    assert CARD not in dumped and "AKIAZ7XQ3LMN4PQR5STU" not in dumped


def test_clean_content_passes_and_still_shows_the_detectors() -> None:
    compiled = TYPE.compile(policy("no credit cards or emails"), None)  # type: ignore[arg-type]
    outcome = compiled.evaluate(evaluation("summarise the Q3 report"))
    assert outcome.status is Status.PASS
    assert outcome.details["detectors"] == ["email", "payment_card"]
    assert outcome.reasons == ["no email, payment_card found in the prompt"]


def test_each_detector_runs_once_per_decision_across_policies() -> None:
    memo: dict[str, Any] = {}
    first = TYPE.compile(policy("no credit cards"), None)  # type: ignore[arg-type]
    second = TYPE.compile(policy("no PII", 1), None)  # type: ignore[arg-type]
    text = f"card {CARD}"
    assert first.evaluate(evaluation(text, memo=memo)).status is Status.VIOLATION
    cached = memo["flashback.findings"]
    assert set(cached) == {"", "payment_card"}
    marker = cached["payment_card"]
    assert second.evaluate(evaluation(text, memo=memo)).status is Status.VIOLATION
    assert memo["flashback.findings"]["payment_card"] is marker


# -- the judge -----------------------------------------------------------------------------------------
def test_a_policy_no_detector_covers_is_judged() -> None:
    compiled = TYPE.compile(policy("Do not discuss competitor pricing", 2), None)  # type: ignore[arg-type]
    assert isinstance(compiled, JudgedPolicy) and compiled.uses == frozenset({"judge"})
    judge = FakeJudge(True, "It compares prices with AcmeCorp.")
    outcome = compiled.evaluate(evaluation("how do our prices compare to AcmeCorp?", judge))
    assert outcome.status is Status.VIOLATION and outcome.severity is Severity.BLOCK
    assert outcome.details["judge"] == {"violated": True, "explanation": "It compares prices with AcmeCorp."}
    assert outcome.details["mode"] == "judge" and outcome.details["match_count"] == 0
    assert judge.calls == [("Do not discuss competitor pricing", "how do our prices compare to AcmeCorp?", 5.0)]
    judge.violated = False
    assert compiled.evaluate(evaluation("hello", judge)).status is Status.PASS


def test_the_judges_explanation_is_masked() -> None:
    compiled = TYPE.compile(policy("No talk about layoffs", 2), None)  # type: ignore[arg-type]
    outcome = compiled.evaluate(evaluation("x", FakeJudge(True, f"It quotes card {CARD}.")))
    assert CARD not in json.dumps(outcome.details) and CARD not in outcome.reasons[0]


def test_no_judge_for_a_judge_only_policy_is_an_error_never_a_silent_pass() -> None:
    compiled = TYPE.compile(policy("Do not discuss competitor pricing", 2), None)  # type: ignore[arg-type]
    with pytest.raises(JudgeUnavailable, match="no judge is configured"):
        compiled.evaluate(evaluation("anything"))


def test_judge_errors_propagate_so_the_engine_fails_closed() -> None:
    compiled = TYPE.compile(policy("Do not discuss competitor pricing", 2), None)  # type: ignore[arg-type]
    with pytest.raises(TimeoutError):
        compiled.evaluate(evaluation("anything", FakeJudge(error=TimeoutError("judge timed out"))))


def test_detectors_first_then_the_judge_for_uncovered_terms() -> None:
    content = "Do not share credit cards or home addresses"
    compiled = TYPE.compile(policy(content, 1), None)  # type: ignore[arg-type]
    assert isinstance(compiled, JudgedPolicy) and compiled.summary["uncovered"] == ["postal address"]
    judge = FakeJudge(True, "It contains a street address.")
    found = compiled.evaluate(evaluation(f"card {CARD}", judge))
    assert found.status is Status.VIOLATION and "matches" in found.details and judge.calls == []
    judged = compiled.evaluate(evaluation("ship to 10 Downing Street", judge))
    assert judged.status is Status.VIOLATION and judged.severity is Severity.WARN and len(judge.calls) == 1
    unchecked = compiled.evaluate(evaluation("ship to 10 Downing Street"))
    assert unchecked.status is Status.PASS
    assert unchecked.reasons == [
        "no payment_card found in the prompt; not checked (postal address): no judge is configured"
    ]


def test_judge_timeout_comes_from_the_judge() -> None:
    compiled = TYPE.compile(policy("Be polite", 2), None)  # type: ignore[arg-type]
    judge = FakeJudge(False)
    judge.timeout_s = 1.5  # type: ignore[attr-defined]
    compiled.evaluate(evaluation("hi", judge))
    assert judge.calls[0][2] == 1.5


def test_policies_with_the_same_rule_share_one_judge_call_per_decision() -> None:
    memo: dict[str, Any] = {}
    judge = FakeJudge(True, "yes")
    for level in ("org", "workspace", "repo"):
        compiled = TYPE.compile(policy("Do not discuss competitor pricing", 2, name=level), None)  # type: ignore[arg-type]
        assert compiled.evaluate(evaluation("AcmeCorp prices?", judge, memo=memo)).status is Status.VIOLATION
    assert len(judge.calls) == 1
    other = TYPE.compile(policy("Be polite", 2), None)  # type: ignore[arg-type]
    other.evaluate(evaluation("AcmeCorp prices?", judge, memo=memo))
    assert len(judge.calls) == 2
