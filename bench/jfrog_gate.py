"""The Rego gate benchmark: ``python -m bench.jfrog_gate [--iterations N]``.

Prints in-process µs per ``lifecycle_gate`` decision for one JFrog lifecycle policy whose template is
real Rego run by regorus (compiled once, evaluated many times):

- ``regorus eval``: ``RegoProgram.evaluate``: the input to a Rego sandbox worker, set_input + eval_rule
  there, the value back (``POLICYHUB_REGO_WORKERS=0``: on the calling thread's engine, unbounded);
- ``compiled.evaluate``: the policy's evaluator (scope check, Rego, result checks, details);
- ``engine.decide``: the whole in-process decision (snapshot check, input validation, selection,
  evaluation, combination; no HTTP, no log), the policy made through the JFrog face on scratch SQLite.

To add the case to ``bench/decisions.py``'s table, append :data:`CASE` to ``bench.decision_inputs.CASES``.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from bench import decision_cases
from bench.decision_cases import Case

REGO = """\
package curation.policies

import rego.v1

default allow := {"should_allow": false, "explanation": "too many critical vulnerabilities"}

critical := [v | some v in input.data.vulnerabilities; v.severity == "critical"]

allow := {"should_allow": true, "explanation": "within the limit"} if {
    count(critical) <= input.params.max_critical
}
"""
TEMPLATE = {
    "name": "Max critical vulnerabilities",
    "version": "1.0.0",
    "category": "security",
    "data_source_type": "evidence",
    "rego": REGO,
    "parameters": [{"name": "max_critical", "type": "int"}],
}
JFROG = "/unifiedpolicy/api/v1"


def gate_input(i: int) -> dict[str, Any]:
    """The i-th decision: an application version at production's entry gate, with a few findings."""
    severities = ("critical", "high", "low")
    return {
        "stage": "production",
        "gate": "entry",
        "application": {"key": "web-app", "version": f"1.0.{i}", "project": "bench", "labels": {"tier": "1"}},
        "evidence": {"vulnerabilities": [{"id": f"v{j}", "severity": severities[(i + j) % 3]} for j in range(4)]},
    }


def setup(ctx: tuple[Any, str, dict[str, str]]) -> None:
    """Template, rule and policy through the JFrog face (the policy is org-wide, project ``bench``)."""
    client, _, headers = ctx
    template = client.post(f"{JFROG}/templates", json=TEMPLATE, headers=headers)
    assert template.status_code == 201, template.text
    rule = {
        "name": "Two critical at most",
        "template_id": template.json()["id"],
        "parameters": [{"name": "max_critical", "value": "2"}],
    }
    created = client.post(f"{JFROG}/rules", json=rule, headers=headers)
    assert created.status_code == 201, created.text
    policy = {
        "name": "Production gate",
        "enabled": True,
        "mode": "block",
        "action": {"type": "certify_to_gate", "stage": {"key": "production", "gate": "entry"}},
        "scope": {"type": "project", "project_keys": ["bench"]},
        "rule_ids": [created.json()["id"]],
    }
    r = client.post(f"{JFROG}/policies", json=policy, headers=headers)
    assert r.status_code == 201, r.text


CASE = Case("Rego gate (jfrog.lifecycle, regorus)", [], "lifecycle_gate", gate_input, setup=setup)


def regorus_floor(iterations: int) -> float:
    """µs per evaluation of the template through the Rego sandbox (what any use of regorus pays)."""
    from policyhub.policy_types.jfrog.program import RegoProgram

    program = RegoProgram(REGO)
    inputs = [{"data": gate_input(i)["evidence"], "params": {"max_critical": 2}} for i in range(64)]
    program.evaluate(inputs[0])
    start = time.perf_counter()
    for i in range(iterations):
        program.evaluate(inputs[i % 64])
    return (time.perf_counter() - start) / iterations * 1e6


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.jfrog_gate", description=__doc__.split("\n\n")[0])
    p.add_argument("--iterations", type=int, default=20000)
    args = p.parse_args(argv)
    floor = regorus_floor(args.iterations)
    [t] = decision_cases.measure([CASE], args.iterations)
    print("| case | regorus eval µs | compiled.evaluate µs | engine.decide µs | decision |")
    print("|---|---|---|---|---|")
    print(f"| {CASE.title} | {floor:.1f} | {t.evaluate_us:.1f} | {t.decide_us:.1f} | {t.decision} |")


if __name__ == "__main__":
    main()
