"""The Rego gate benchmark: ``python -m bench.jfrog_gate [--iterations N]``.

Prints in-process µs per ``lifecycle_gate`` decision for one JFrog lifecycle policy whose template is
real Rego run by regorus (compiled once, evaluated many times):

- ``regorus eval``: set_input + eval_rule on the calling thread's engine (the floor);
- ``compiled.evaluate``: the policy's evaluator (scope check, Rego, result checks, details);
- ``engine.decide``: the whole in-process decision (snapshot check, input validation, selection,
  evaluation, combination; no HTTP, no log), the policy made through the JFrog face on scratch SQLite.

To add the case to ``bench/decisions.py``'s table, append :data:`CASE` to ``bench.decision_inputs.CASES``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from bench.decision_cases import Case
from policyhub.app import build_container
from policyhub.engine.compiled import Evaluation
from policyhub.engine.engine import DecisionRequest
from policyhub.http.app import create_app
from policyhub.services.orgs import create_org
from policyhub.settings import Settings
from policyhub.storage.migrate import upgrade

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
    """µs per set_input + eval_rule on one engine (what any use of regorus pays)."""
    from policyhub.policy_types.jfrog.program import RegoProgram

    program = RegoProgram(REGO)
    inputs = [{"data": gate_input(i)["evidence"], "params": {"max_critical": 2}} for i in range(64)]
    program.evaluate(inputs[0])
    start = time.perf_counter()
    for i in range(iterations):
        program.evaluate(inputs[i % 64])
    return (time.perf_counter() - start) / iterations * 1e6


def engine_figures(iterations: int) -> tuple[float, float, str]:
    """µs per ``engine.decide`` and per ``compiled.evaluate`` for :data:`CASE` (app + scratch SQLite)."""
    with tempfile.TemporaryDirectory(prefix="bench-jfrog-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'gate.db'}"
        upgrade(url)
        container = build_container(Settings(database_url=url, access_log=False, decision_refresh_s=60.0))
        try:
            with TestClient(create_app(container=container)) as client:
                with container.db.write() as uow:
                    created = create_org(uow, "bench-jfrog-gate")
                setup((client, "", {"Authorization": f"Bearer {created.admin_token}"}))
                engine = container.decisions.engine
                org_id = created.org.id
                requests = [DecisionRequest(CASE.point, gate_input(i)) for i in range(64)]
                answer = engine.decide(org_id, requests[0]).decision.value
                start = time.perf_counter()
                for i in range(iterations):
                    engine.decide(org_id, requests[i % 64])
                decide_us = (time.perf_counter() - start) / iterations * 1e6
                prepared = engine.prepare(engine.snapshot(org_id), requests[0])
                [compiled] = [e.compiled for e in prepared.entries]
                ev = Evaluation(CASE.point, None, prepared.input, time.time(), prepared.snapshot, engine.limiter)
                start = time.perf_counter()
                for _ in range(iterations):
                    compiled.evaluate(ev)
                evaluate_us = (time.perf_counter() - start) / iterations * 1e6
        finally:
            container.decisions.log.close()
            container.db.dispose()
    return decide_us, evaluate_us, answer


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.jfrog_gate", description=__doc__.split("\n\n")[0])
    p.add_argument("--iterations", type=int, default=20000)
    args = p.parse_args(argv)
    floor = regorus_floor(args.iterations)
    decide_us, evaluate_us, answer = engine_figures(args.iterations)
    print("| case | regorus eval µs | compiled.evaluate µs | engine.decide µs | decision |")
    print("|---|---|---|---|---|")
    print(f"| {CASE.title} | {floor:.1f} | {evaluate_us:.1f} | {decide_us:.1f} | {answer} |")


if __name__ == "__main__":
    main()
