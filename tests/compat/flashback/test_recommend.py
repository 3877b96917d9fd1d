"""The recommendation rule of ``POST /policy/recommend`` (pure; the route's cases are in cases.yaml)."""

from __future__ import annotations

from policyhub.http.compat.flashback.recommend import recommend
from policyhub.policy_types.flashback.vocabulary import select

PROMPT = "Support agents paste home addresses, Slack tokens and AWS keys into the assistant."


def test_terms_no_detector_covers_are_recommended_only_with_a_judge() -> None:
    without = recommend([], [], select(PROMPT), judge=False)
    assert [(r["source"], r["riskType"], r["alertType"]) for r in without] == [
        ("prompt", "high", "block"),
        ("prompt", "high", "block"),
    ]
    with_judge = recommend([], [], select(PROMPT), judge=True)
    judged = [r for r in with_judge if not r["detectors"]]
    assert [(r["content"], r["riskType"], r["alertType"]) for r in judged] == [
        ("Do not share any postal address in prompts or responses.", "medium", "alert")
    ]


def test_a_recommended_content_selects_the_detectors_it_names() -> None:
    for item in recommend([], [], select(PROMPT), judge=True):
        assert set(item["detectors"]) <= set(select(item["content"]).detectors), item


def test_an_empty_prompt_gets_the_baseline_and_a_named_term_does_not() -> None:
    baseline = recommend([], [], select(""), judge=False)
    assert [r["source"] for r in baseline] == ["baseline", "baseline"]
    assert [r["riskType"] for r in baseline] == ["high", "medium"]
    assert all(r["source"] == "prompt" for r in recommend([], [], select("credit cards"), judge=False))
