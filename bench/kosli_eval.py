"""In-process cost of one Kosli environment evaluation: ``python -m bench.kosli_eval [--iterations N]``.

A typical policy (provenance with an exception, trail compliance, three required attestations, one
with an ``if``) is compiled once; an environment of five artifacts (one without provenance, one with
two trails) is evaluated many times. Prints µs per evaluation for the compiled policy alone (fresh
per-decision memo, as in a one-policy decision), for a second policy of the same decision (the
artifacts' contexts already prepared), and for input validation plus evaluation.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from typing import Any

from policyhub.domain.records import Enforcement, Policy
from policyhub.evaluation.compiled import Evaluation
from policyhub.evaluation.inputs.environment import ENVIRONMENT
from policyhub.evaluation.snapshot import OrgSnapshot
from policyhub.policy_types.kosli import KosliEnvironmentType

POLICY_YAML = """\
_schema: https://docs.kosli.com/schemas/policy/v1
artifacts:
  provenance:
    required: true
    exceptions:
      - if: ${{ matches(artifact.name, "^datadog:.*") }}
  trail-compliance:
    required: true
  attestations:
    - name: unit-test
      type: junit
    - name: security-scan
      type: snyk
    - name: pull-request
      type: pull_request
      if: ${{ flow.tags.risk-level == "high" }}
"""


def _trail(flow: str, name: str, risk: str, *missing: str) -> dict[str, Any]:
    atts = [
        {"name": "unit-test", "type": "junit", "compliant": True},
        {"name": "security-scan", "type": "snyk", "compliant": True},
        {"name": "pull-request", "type": "pull_request", "compliant": True},
        {"name": "coverage", "type": "custom:coverage", "compliant": True},
    ]
    return {
        "flow": {"name": flow, "tags": {"risk-level": risk, "team": "core"}},
        "name": name,
        "compliant": True,
        "attestations": [a for a in atts if a["name"] not in missing],
    }


ENVIRONMENT_INPUT: dict[str, Any] = {
    "environment": "prod",
    "artifacts": [
        {"name": "backend:1.4.2", "fingerprint": "1" * 64, "trails": [_trail("backend-ci", "a1b2", "high")]},
        {"name": "frontend:2.0.1", "fingerprint": "2" * 64, "trails": [_trail("frontend-ci", "c3d4", "low")]},
        {
            "name": "worker:0.9.0",
            "fingerprint": "3" * 64,
            "trails": [_trail("worker-ci", "e5f6", "low"), _trail("promotion", "p-77", "low", "unit-test")],
        },
        {"name": "gateway:3.1.0", "fingerprint": "4" * 64, "trails": [_trail("gateway-ci", "g7h8", "high")]},
        {"name": "datadog:7.52", "fingerprint": "5" * 64, "trails": []},
    ],
}


def compiled_policy() -> Any:
    kind = KosliEnvironmentType()

    class _Ctx:
        org_id = "bench"

        def document_schema(self, name: str) -> None:
            return None

        def reference_exists(self, kind: str, ref_id: str) -> bool:
            return False

    spec = kind.parse_source(POLICY_YAML, _Ctx()).spec
    now = datetime.now(UTC)
    policy = Policy(
        "bench-policy", "bench", None, None, "prod", "", kind.name, spec, POLICY_YAML, Enforcement.ENFORCE, True,
        {}, {}, 1, 1, now, "bench", now, "bench", False,
    )  # fmt: skip
    return kind.compile(policy, OrgSnapshot("bench", 0, [], []))


def measure(iterations: int) -> dict[str, float]:
    policy = compiled_policy()
    snapshot = OrgSnapshot("bench", 0, [], [])
    parsed = ENVIRONMENT.parse(ENVIRONMENT_INPUT)

    def fresh() -> Evaluation:
        return Evaluation("environment", None, parsed, time.time(), snapshot, limiter=None)  # type: ignore[arg-type]

    outcome = policy.evaluate(fresh())
    assert outcome.status.value == "violation", outcome  # the promotion trail lacks its unit test
    out: dict[str, float] = {}

    start = time.perf_counter()
    for _ in range(iterations):
        policy.evaluate(fresh())
    out["evaluate (first policy of a decision)"] = (time.perf_counter() - start) / iterations * 1e6

    shared = fresh()
    policy.evaluate(shared)
    start = time.perf_counter()
    for _ in range(iterations):
        policy.evaluate(shared)
    out["evaluate (another policy, contexts shared)"] = (time.perf_counter() - start) / iterations * 1e6

    start = time.perf_counter()
    for _ in range(iterations):
        evaluation = fresh()
        evaluation.input = ENVIRONMENT.parse(ENVIRONMENT_INPUT)
        policy.evaluate(evaluation)
    out["input validation + evaluate"] = (time.perf_counter() - start) / iterations * 1e6
    return out


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.kosli_eval", description=__doc__.split("\n\n")[0])
    p.add_argument("--iterations", type=int, default=20000)
    args = p.parse_args()
    for name, us in measure(args.iterations).items():
        print(f"{name}: {us:.1f} µs")


if __name__ == "__main__":
    main()
