"""Properties of the evaluator against a plain oracle (Hypothesis): attestation rules, order independence."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from policyhub.evaluation.outcome import Status
from tests.policy_types.kosli.evaluate_support import artifact, compiled, evaluation, verdicts

NAMES = ("unit-test", "scan")
TYPES = ("junit", "snyk")

attestations = st.fixed_dictionaries(
    {"name": st.sampled_from(NAMES), "type": st.sampled_from(TYPES), "compliant": st.booleans()}
)
trails = st.fixed_dictionaries(
    {
        "flow": st.fixed_dictionaries({"name": st.sampled_from(("a", "b"))}),
        "name": st.sampled_from(("t1", "t2")),
        "compliant": st.one_of(st.none(), st.booleans()),
        "attestations": st.lists(attestations, max_size=3),
    }
)


def oracle(rule: dict[str, Any], conditional: bool, artifact_trails: list[dict[str, Any]]) -> str:
    """satisfied | ignored | violated, straight from the documented semantics."""
    if not artifact_trails:
        return "ignored" if conditional else "violated"  # flow.name is missing without provenance
    applicable = [t for t in artifact_trails if not conditional or t["flow"]["name"] == "a"]
    if not applicable:
        return "ignored"
    for t in applicable:
        found = [a for a in t["attestations"] if rule["name"] in ("*", a["name"]) and rule["type"] in ("*", a["type"])]
        if not found or (rule["must_be_compliant"] and not all(a["compliant"] for a in found)):
            return "violated"
    return "satisfied"


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from((*NAMES, "*")),
    type_=st.sampled_from((*TYPES, "*")),
    must_be_compliant=st.booleans(),
    conditional=st.booleans(),
    artifact_trails=st.lists(trails, max_size=3),
)
def test_attestation_rule_matches_the_oracle(
    name: str, type_: str, must_be_compliant: bool, conditional: bool, artifact_trails: list[dict[str, Any]]
) -> None:
    if name == "*" and type_ == "*":
        type_ = "junit"
    body = f"artifacts:\n  attestations:\n    - name: '{name}'\n      type: '{type_}'\n"
    body += f"      must_be_compliant: {str(must_be_compliant).lower()}\n"
    if conditional:
        body += '      if: ${{ flow.name == "a" }}\n'
    out = compiled(body).evaluate(evaluation(artifact("x", "a" * 64, *artifact_trails)))
    rule = {"name": name, "type": type_, "must_be_compliant": must_be_compliant}
    expected = oracle(rule, conditional, artifact_trails)
    assert verdicts(out) == [("attestation", expected)]
    assert (out.status is Status.VIOLATION) == (expected == "violated")


POLICY = (
    "artifacts:\n  provenance:\n    required: true\n  trail-compliance:\n    required: true\n"
    "  attestations:\n    - name: unit-test\n      type: junit\n"
)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.lists(trails, max_size=2), min_size=1, max_size=4),  # at most 16 reasons: none cut
    st.randoms(use_true_random=False),
)
def test_artifact_order_does_not_matter(per_artifact: list[list[dict[str, Any]]], rnd: Any) -> None:
    artifacts = [artifact(f"art{i}", f"{i:064x}", *ts) for i, ts in enumerate(per_artifact)]
    policy = compiled(POLICY)
    straight = policy.evaluate(evaluation(*artifacts))
    shuffled = list(artifacts)
    rnd.shuffle(shuffled)
    other = policy.evaluate(evaluation(*shuffled))
    assert straight.status is other.status
    by_fp = {a["fingerprint"]: a for a in straight.details["artifacts"]}
    assert all(by_fp[a["fingerprint"]] == a for a in other.details["artifacts"])
    assert sorted(straight.reasons) == sorted(other.reasons)
    assert (straight.status is Status.PASS) == all(a["compliant"] for a in straight.details["artifacts"])
