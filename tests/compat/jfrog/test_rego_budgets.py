"""Template Rego runs bounded (issue 11): refused before parsing when nested too deeply, a 400 when too slow to
parse, and an evaluation that runs out of its budget denies with the reason while other orgs are answered."""

from __future__ import annotations

import copy
import threading
import time
from typing import Any

from tests.conftest import OrgClient

from .conftest import REGO, TEMPLATE, JFrog
from .test_evaluations import core_input, evaluate, request

HEAD = "package curation.policies\nimport rego.v1\nallow := "
# The 202-byte template: nested array literals (regorus's parser backtracks exponentially in them).
NESTED = HEAD + "[" * 75 + "]" * 75 + " \n"
# Within the nesting cap, but slow to parse: ~10 ms per line, 4 s in all.
SLOW_TO_PARSE = HEAD + "true\n" + "".join(f"x{i} := " + "{1:" * 12 + "1" + "}" * 12 + "\n" for i in range(400))
# Cubic in the evidence: 3 findings are 27 steps, 1,000 are 10^9.
CUBIC = (
    HEAD
    + '{"should_allow": count(triples) >= 0}\n'
    + "vulns := input.data.vulnerabilities\n"
    + "triples := [1 | some a in vulns; some b in vulns; some c in vulns]\n"
)
BUDGET_REASON = "Rego evaluation exceeded its 250 ms time budget"


def post_template(jf: JFrog, rego: str) -> Any:
    return jf.call("POST", "/templates", json={**copy.deepcopy(TEMPLATE), "rego": rego})


def test_a_deeply_nested_template_is_refused_at_once(jf: JFrog) -> None:
    assert len(NESTED.encode()) == 202
    started = time.monotonic()
    r = post_template(jf, NESTED)
    assert time.monotonic() - started < 2.0  # was 7.4 s of parsing, holding the server
    assert r.status_code == 400, r.text
    [error] = r.json()["errors"]
    assert error["field"] == "rego"
    assert error["message"].startswith("nests brackets, braces and parentheses more than 12 levels deep (line 3)")
    template = jf.template()
    r = jf.call("PUT", f"/templates/{template['id']}", json={**copy.deepcopy(TEMPLATE), "rego": NESTED})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "rego"
    assert jf.call("GET", f"/templates/{template['id']}").json()["rego"] == REGO


def test_a_template_too_slow_to_parse_is_a_400_within_the_parse_budget(jf: JFrog) -> None:
    started = time.monotonic()
    r = post_template(jf, SLOW_TO_PARSE)
    assert time.monotonic() - started < 4.0
    assert r.status_code == 400, r.text
    [error] = r.json()["errors"]
    assert error["field"] == "rego"
    assert error["message"] == "could not be parsed within its budget: Rego parsing exceeded its 1000 ms time budget"
    # Ordinary templates still parse: nesting up to the cap is fine.
    assert post_template(jf, HEAD + '{"should_allow": count([[[[[[[[[[1]]]]]]]]]]) == 1}\n').status_code == 201


def test_a_runaway_evaluation_denies_with_its_budget_while_another_org_is_answered(
    jf: JFrog, other_org: OrgClient
) -> None:
    jf.policy(jf.rule(jf.template(rego=CUBIC)["id"])["id"])
    other = JFrog(other_org)
    other.policy(other.rule(other.template()["id"])["id"])
    assert evaluate(jf, request(3))["decision"] == "pass"  # the same template on small evidence
    finished: dict[str, float] = {}
    answers: dict[str, dict[str, Any]] = {}

    def runaway(name: str) -> None:
        started = time.monotonic()
        answers[name] = evaluate(jf, request(1000))
        finished[name] = time.monotonic()
        answers[name]["elapsed"] = finished[name] - started

    threads = [threading.Thread(target=runaway, args=(f"hostile-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    time.sleep(0.05)
    assert other_org.client.get("/healthz").status_code == 200
    assert evaluate(other, request(1))["decision"] == "pass"
    r = other_org.post("decisions", json={"point": "lifecycle_gate", "input": core_input(9)})
    assert r.status_code == 200 and r.json()["decision"] == "deny"  # evaluated by Rego, off the event loop
    finished["other"] = time.monotonic()
    for thread in threads:
        thread.join()
    assert finished["other"] < max(finished["hostile-0"], finished["hostile-1"])
    for answer in (answers["hostile-0"], answers["hostile-1"]):
        assert answer["decision"] == "error"
        [item] = answer["decision_breakdown"]
        assert item["output"]["explanation"] == (
            f"evaluation error: rule 'High+ CVEs' (template 'Max vulnerabilities'): {BUDGET_REASON}"
        )
        assert answer["elapsed"] < 4.0
    # The worker that ran out was replaced: the next evaluations work, on small and large evidence alike.
    assert evaluate(jf, request(3))["decision"] == "pass"
    assert evaluate(other, request(9))["decision"] == "fail"


def test_a_runaway_v1_decision_denies_with_the_reason(jf: JFrog) -> None:
    jf.policy(jf.rule(jf.template(rego=CUBIC)["id"])["id"])
    started = time.monotonic()
    r = jf.org.post("decisions", json={"point": "lifecycle_gate", "input": core_input(1000)})
    assert time.monotonic() - started < 3.0
    assert r.status_code == 200, r.text
    decision = r.json()
    assert decision["decision"] == "deny"
    assert decision["results"][0]["reasons"] == [
        f"evaluation error: rule 'High+ CVEs' (template 'Max vulnerabilities'): {BUDGET_REASON}"
    ]
    assert jf.org.post("decisions", json={"point": "lifecycle_gate", "input": core_input(2)}).json()["decision"] == (
        "allow"
    )
