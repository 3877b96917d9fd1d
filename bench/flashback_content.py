"""In-process cost of one Flashback AI-content evaluation: ``python -m bench.flashback_content [--iterations N]``.

A policy whose content activates three detectors ("Do not share email addresses, credit card numbers
or IBANs" → email, payment_card, iban) is compiled once; a ~1 KB prompt (prose with dates, amounts and
ticket numbers, nothing to find) is evaluated many times. Prints µs per evaluation for:

* the compiled policy alone, with a fresh per-decision memo each time (every detector runs);
* a second policy of the same decision (the memo already holds the findings);
* input validation plus evaluation (``AI_CONTENT.parse`` + ``evaluate``);
* the violation path (the same prompt with a card number in it: positions, masking, excerpts).

``CASE`` is the same policy and prompt for ``bench.decision_cases`` (add it to
``bench.decision_inputs.CASES``); note that harness reuses one ``Evaluation`` across iterations, so its
"compiled.evaluate" column would time the memo hit (reset ``evaluation.memo`` per iteration for the cold cost).
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from typing import Any

from bench.decision_cases import Case
from policyhub.domain.records import Enforcement, Policy
from policyhub.evaluation.compiled import Evaluation
from policyhub.evaluation.inputs.ai_content import AI_CONTENT
from policyhub.policy_types.flashback import FlashbackAiType

CONTENT = "Do not share email addresses, credit card numbers or IBANs"
_PARAGRAPH = (
    "Please summarise the attached quarterly report for the leadership offsite on 2024-05-17. Revenue grew "
    "12% to 4.5M EUR across 3 regions; churn fell to 2.1%. Highlight the 15 open tickets (see ticket 4821 "
    "and 4822), the hiring plan for Q3, and the risks the finance team raised about supplier contracts. "
)
PROMPT = (_PARAGRAPH * 4)[:1024]
DIRTY = PROMPT[:500] + " My card is 4111 1111 1111 1111. " + PROMPT[500:990]

CASE = Case(
    "AI content (flashback.ai, 3 detectors, 1 KB prompt)",
    [
        {
            "name": "no-pii",
            "type": "flashback.ai",
            "scope": "bench",
            "spec": {"content": CONTENT, "riskType": "HIGH", "actionType": 2},
        }
    ],
    "ai_content",
    lambda i: {"content": PROMPT[:-4] + f"{i % 1000:04d}"},
)


def policy(content: str = CONTENT) -> Policy:
    at = datetime.now(UTC)
    return Policy(
        id="p",
        org_id="o",
        scope_id=None,
        scope_path=None,
        name="no-pii",
        description="",
        type="flashback.ai",
        spec={"content": content, "riskType": "HIGH", "actionType": 2},
        source=None,
        enforcement=Enforcement.ENFORCE,
        enabled=True,
        labels={},
        attributes={},
        revision=1,
        version=1,
        created_at=at,
        created_by="b",
        updated_at=at,
        updated_by="b",
        archived=False,
    )


def _evaluation(data: dict[str, Any]) -> Evaluation:
    return Evaluation("ai_content", None, AI_CONTENT.parse(data), 0.0, None, None)  # type: ignore[arg-type]


def evaluate_us(text: str = PROMPT, iterations: int = 20_000, content: str = CONTENT) -> float:
    """µs per evaluation of ``text`` by one compiled policy, with a fresh per-decision memo each time."""
    compiled = FlashbackAiType().compile(policy(content), None)  # type: ignore[arg-type]
    evaluation = _evaluation({"content": text})

    def run() -> None:
        for _ in range(iterations):
            evaluation.memo = {}
            compiled.evaluate(evaluation)

    return _best(run, iterations)


def _best(run: Any, iterations: int, rounds: int = 5) -> float:
    """µs per iteration in the fastest of ``rounds`` rounds (the least disturbed by other processes)."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times) / iterations * 1e6


def measure(iterations: int) -> dict[str, float]:
    compiled = FlashbackAiType().compile(policy(), None)  # type: ignore[arg-type]
    assert compiled.summary["detectors"] == ["email", "payment_card", "iban"]  # type: ignore[attr-defined]
    warm = _evaluation({"content": PROMPT})
    compiled.evaluate(warm)

    def second_policy() -> None:
        for _ in range(iterations):
            compiled.evaluate(warm)

    data = {"content": PROMPT, "direction": "prompt"}

    def parse_and_evaluate() -> None:
        for _ in range(iterations):
            compiled.evaluate(_evaluation(data))

    second = _best(second_policy, iterations)
    parsed = _best(parse_and_evaluate, iterations)
    return {
        "cold": evaluate_us(PROMPT, iterations),
        "second policy (memo hit)": second,
        "parse + evaluate": parsed,
        "violation (card found)": evaluate_us(DIRTY, max(1, iterations // 10)),
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.flashback_content", description=__doc__.split("\n\n")[0])
    p.add_argument("--iterations", type=int, default=20_000)
    args = p.parse_args(argv)
    print(f"policy: {CONTENT!r}; prompt: {len(PROMPT)} characters")
    for label, us in measure(args.iterations).items():
        print(f"  {label:28s} {us:7.1f} µs")


if __name__ == "__main__":
    main()
