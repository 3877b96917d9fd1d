"""A decision's budgets through the real app: its deadline, and the size of what it answers (issue 11).

A decision past its deadline denies with the reason, whatever the policies left unevaluated would have
said; each result's reasons and details and the whole answer are capped, with a marker saying so. The
attack they stop: a 142 KB decision against a 1,000-rule Kosli policy answered 133 MB (311 MB in the
issue's measurement), because every rule's resolutions echoed the input's trail names.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from policyhub.engine.engine import DecisionRequest
from policyhub.evaluation.points import DecisionPoint
from policyhub.http.deps import Container
from tests.conftest import OrgClient, make_settings, new_org
from tests.engine.threshold_type import registry_with_threshold
from tests.own_app import own_client, own_container

DEADLINE_S = 0.5
KOSLI_SCHEMA = "https://kosli.com/schemas/policy/environment/v1"


@pytest.fixture(scope="module")
def budget_container(database_url: str) -> Iterator[Container]:
    settings = make_settings(
        database_url,
        decision_deadline_s=DEADLINE_S,
        decision_max_response_bytes=256 * 1024,
        decision_log_sample_allow=0.0,
    )
    with own_container(settings, registry_with_threshold()) as c:
        yield c


@pytest.fixture(scope="module")
def budget_client(budget_container: Container) -> Iterator[TestClient]:
    with own_client(budget_container) as client:
        yield client


@pytest.fixture
def org(budget_client: TestClient, budget_container: Container) -> OrgClient:
    return new_org(budget_client, budget_container)


def threshold(org: OrgClient, name: str, **spec: Any) -> None:
    fields = {k: spec.pop(k) for k in ("enforcement",) if k in spec}
    body = {"name": name, "type": "test.threshold", "spec": {"field": "n", "max": 10, **spec}, **fields}
    r = org.post("policies", json=body)
    assert r.status_code == 201, r.text


def decide(org: OrgClient, point: str, given: dict[str, Any]) -> tuple[dict[str, Any], int, float]:
    started = time.monotonic()
    r = org.post("decisions", json={"point": point, "input": given})
    assert r.status_code == 200, r.text[:500]
    return dict(r.json()), len(r.content), time.monotonic() - started


def by_name(decision: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in decision["results"]}


# -- the deadline ----------------------------------------------------------------------------------
def test_policies_left_at_the_deadline_deny_with_the_reason(org: OrgClient) -> None:
    threshold(org, "a-slow", sleep_s=0.3)
    threshold(org, "b-slow", sleep_s=0.3)
    threshold(org, "c-audit-only", enforcement="audit")  # could never deny, yet the decision is incomplete
    decision, _, took = decide(org, "http_request", {"context": {"n": 1}})
    assert decision["decision"] == "deny" and took < DEADLINE_S + 1.0
    results = by_name(decision)
    assert results["a-slow"]["effect"] == "allow" and results["b-slow"]["effect"] == "allow"
    late = results["c-audit-only"]
    assert (late["effect"], late["error"]) == ("deny", True)
    assert "decision deadline exceeded" in late["reasons"][0]


def test_a_decision_within_its_deadline_is_unchanged(org: OrgClient) -> None:
    threshold(org, "a-slow", sleep_s=0.1)
    threshold(org, "b-quick")
    decision, _, _ = decide(org, "http_request", {"context": {"n": 1}})
    assert decision["decision"] == "allow"
    assert all("error" not in r for r in decision["results"])


def kosli_policy(org: OrgClient, name: str, rules: int) -> None:
    attestations = [{"name": f"att-{i}", "type": "generic"} for i in range(rules)]
    spec = {"_schema": KOSLI_SCHEMA, "artifacts": {"attestations": attestations}}
    r = org.post("policies", json={"name": name, "type": "kosli.environment", "spec": spec})
    assert r.status_code == 201, r.text[:300]


def trails(count: int, name_chars: int) -> list[dict[str, Any]]:
    return [
        {
            "flow": {"name": "f" * 250 + f"{i:04d}"},
            "name": "t" * name_chars + f"{i:04d}",
            "compliant": True,
            "attestations": [{"name": "att-0", "type": "generic", "compliant": True}],
        }
        for i in range(count)
    ]


def test_a_kosli_evaluation_too_long_for_the_deadline_denies_at_it(org: OrgClient) -> None:
    kosli_policy(org, "many-rules", 1000)
    artifacts = [{"name": f"a{n}", "fingerprint": f"{n:064x}", "trails": trails(20, 10)} for n in range(400)]
    decision, _, took = decide(org, "environment", {"artifacts": artifacts})  # 8M checks: many seconds unbounded
    assert took < DEADLINE_S + 1.5
    (result,) = decision["results"]
    assert (decision["decision"], result["error"]) == ("deny", True)
    assert "decision deadline exceeded" in result["reasons"][0]


# -- sizes -----------------------------------------------------------------------------------------
def test_the_kosli_amplification_answers_a_bounded_response_fast(org: OrgClient) -> None:
    kosli_policy(org, "thousand-rules", 1000)
    given = {"artifacts": [{"name": "a", "fingerprint": "a" * 64, "trails": trails(100, 1000)}]}
    assert 130_000 < len(orjson.dumps(given)) < 150_000
    decision, size, took = decide(org, "environment", given)
    assert size < 64 * 1024 and took < 3.0  # was 133 MB
    (result,) = decision["results"]
    assert decision["decision"] == "deny" and "error" not in result
    assert "_truncated" in result["details"]  # what was left out is said
    evaluations = result["details"]["artifacts"][0]["rule_evaluations"]
    assert evaluations and evaluations[0]["rule"]["definition"]["name"] == "att-0"
    assert len(result["reasons"]) <= 100 and all(len(r.encode()) <= 1024 for r in result["reasons"])
    assert result["reasons"][-1].startswith("... and ")  # every violation is still counted


def test_a_small_kosli_decision_keeps_its_whole_answer(org: OrgClient) -> None:
    kosli_policy(org, "three-rules", 3)
    decision, _, _ = decide(org, "environment", {"artifacts": [{"fingerprint": "b" * 64, "trails": trails(2, 10)}]})
    (result,) = decision["results"]
    assert "_truncated" not in result["details"]
    evaluations = result["details"]["artifacts"][0]["rule_evaluations"]
    assert [e["satisfied"] for e in evaluations] == [True, False, False]
    assert [len(e["resolutions"]) for e in evaluations] == [2, 2, 2]


def test_reasons_and_details_are_capped_per_result(org: OrgClient) -> None:
    threshold(org, "chatty", reasons=500, reason_chars=5000, detail_bytes=200_000)
    decision, size, _ = decide(org, "http_request", {"context": {"n": 11}})
    result = by_name(decision)["chatty"]
    assert result["effect"] == "deny" and len(result["reasons"]) == 100
    assert all(len(r.encode()) <= 1024 for r in result["reasons"])
    assert result["reasons"][-1] == "… [truncated: 401 more reason(s)]"
    assert len(orjson.dumps(result["details"])) <= 17 * 1024 and "_truncated" in result["details"]
    assert result["details"]["rows"][0] == {"i": 0, "pad": "d" * 90}  # a prefix, then a marker
    assert size < 150 * 1024


def test_the_whole_answer_is_capped_and_every_verdict_kept(org: OrgClient) -> None:
    for i in range(40):
        threshold(org, f"p{i:02d}", reasons=100, reason_chars=1000, detail_bytes=20_000)
    decision, size, _ = decide(org, "http_request", {"context": {"n": 11}})
    assert size < 256 * 1024 + 40 * 1024  # the answer's budget, plus each result's verdict and one short reason
    assert len(decision["results"]) == 40 and all(r["effect"] == "deny" for r in decision["results"])
    last = decision["results"][-1]
    assert len(last["reasons"]) == 2 and "over 262144 bytes" in last["reasons"][1]
    assert "over 262144 bytes" in last["details"]["_truncated"]


def test_a_batch_shares_one_answer_budget(org: OrgClient) -> None:
    threshold(org, "chatty", reasons=100, reason_chars=1000, detail_bytes=20_000)
    requests = [{"point": "http_request", "input": {"context": {"n": 11}}} for _ in range(50)]
    r = org.post("decisions/batch", json={"requests": requests})
    assert r.status_code == 200 and len(r.content) < 256 * 1024 + 50 * 1024  # was 50 full answers: ~6 MB
    answers = r.json()["decisions"]
    assert len(answers) == 50 and all(a["decision"] == "deny" for a in answers)
    assert "over 262144 bytes" in answers[-1]["results"][0]["details"]["_truncated"]


@pytest.mark.parametrize(
    ("point", "given", "off_loop"),
    [
        ("environment", {"artifacts": []}, True),
        ("ai_content", {"content": "hello"}, False),
        ("ai_content", {"content": "x" * 20_000}, True),
        ("http_request", {"path": "/x", "user": "ann@example.com"}, False),
    ],
)
def test_long_cpu_decisions_are_evaluated_off_the_event_loop(
    org: OrgClient, point: str, given: dict[str, Any], off_loop: bool
) -> None:
    """Kosli compliance checks (whatever their size) and long AI texts are evaluated on a worker thread:
    on the loop, one running to its deadline would hold every other org's requests that long. Gateway
    decisions stay on the loop (microseconds; a thread hop would double their cost)."""
    kosli_policy(org, "env-rules", 1)
    spec = {"content": "No secrets in prompts.", "riskType": "MEDIUM", "actionType": 1}
    assert org.post("policies", json={"name": "ai", "type": "flashback.ai", "spec": spec}).status_code == 201
    access = {"name": "who", "type": "syftspace.access", "spec": {"allowed_users": ["*@example.com"]}}
    assert org.post("policies", json=access).status_code == 201
    engine = org.container.decisions.engine
    prepared = engine.prepare(engine.snapshot(org.org_id), DecisionRequest(point=point, input=given))
    assert prepared.entries, "a policy takes part"
    assert engine.blocking(prepared) is off_loop


def test_a_long_decision_is_parsed_off_the_event_loop_too(org: OrgClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """An environment input (up to the body limit: a 4.8 MB one takes ~0.4 s to validate) is parsed on a
    worker thread, not on the loop that a gateway decision is parsed on."""
    kosli_policy(org, "env-parse", 1)
    parsed_on: dict[str, int] = {}
    original = DecisionPoint.parse

    def record(point: DecisionPoint, data: Any) -> Any:
        parsed_on[point.name] = threading.get_ident()
        return original(point, data)

    monkeypatch.setattr(DecisionPoint, "parse", record)
    assert org.post("decisions", json={"point": "http_request", "input": {"path": "/x"}}).status_code == 200
    assert org.post("decisions", json={"point": "environment", "input": {"artifacts": []}}).status_code == 200
    assert set(parsed_on) == {"environment", "http_request"}
    assert parsed_on["environment"] != parsed_on["http_request"]  # the loop's thread parsed the gateway's
