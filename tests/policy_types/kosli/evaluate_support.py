"""Building compiled Kosli policies and environment inputs for the evaluator's unit tests."""

from __future__ import annotations

import time
from typing import Any

from policyhub.domain.records import Policy
from policyhub.evaluation.compiled import Evaluation
from policyhub.evaluation.inputs.environment import ENVIRONMENT
from policyhub.evaluation.outcome import Outcome
from policyhub.evaluation.snapshot import OrgSnapshot
from policyhub.policy_types.kosli import KosliEnvironmentType
from policyhub.policy_types.kosli.evaluate import CompiledEnvironmentPolicy
from tests.policy_types.helpers import FakeContext
from tests.support.records import policy_record as record

TYPE = KosliEnvironmentType()
SCHEMA = "_schema: https://docs.kosli.com/schemas/policy/v1\n"
FP_A, FP_B, FP_C = "a" * 64, "b" * 64, "c" * 64


def policy_record(source: str, name: str = "prod", policy_id: str = "p-1") -> Policy:
    spec = TYPE.parse_source(source, FakeContext()).spec
    return record(TYPE.name, spec, id=policy_id, name=name, source=source)


def compiled(body: str) -> CompiledEnvironmentPolicy:
    """Compile the policy ``SCHEMA + body`` (``body`` is the YAML under ``_schema``)."""
    result = TYPE.compile(policy_record(SCHEMA + body), OrgSnapshot("org-1", 0, [], []))
    assert isinstance(result, CompiledEnvironmentPolicy)
    return result


def trail(
    flow: str = "ci",
    name: str | None = "t1",
    compliant: bool | None = True,
    *attestations: dict[str, Any],
    tags: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "flow": {"name": flow, "tags": tags or {}},
        "name": name,
        "compliant": compliant,
        "attestations": list(attestations),
    }


def att(name: str, type_: str = "junit", compliant: bool = True, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, "compliant": compliant, **extra}


def artifact(name: str | None = "backend", fingerprint: str = FP_A, *trails: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "fingerprint": fingerprint, "trails": list(trails)}


def evaluation(*artifacts: dict[str, Any], environment: str | None = None) -> Evaluation:
    parsed = ENVIRONMENT.parse({"environment": environment, "artifacts": list(artifacts)})
    return Evaluation("environment", None, parsed, time.time(), OrgSnapshot("org-1", 0, [], []), limiter=None)  # type: ignore[arg-type]


def run(body: str, *artifacts: dict[str, Any]) -> Outcome:
    return compiled(body).evaluate(evaluation(*artifacts))


def rules(outcome: Outcome, index: int = 0) -> list[dict[str, Any]]:
    """The rule evaluations of the ``index``-th artifact."""
    return list(outcome.details["artifacts"][index]["rule_evaluations"])


def verdicts(outcome: Outcome, index: int = 0) -> list[tuple[str, str]]:
    """(rule type, satisfied|ignored|violated) per rule of one artifact."""
    out = []
    for r in rules(outcome, index):
        state = "ignored" if r["ignored"] else ("satisfied" if r["satisfied"] else "violated")
        out.append((r["rule"]["type"], state))
    return out


def resolutions(outcome: Outcome, rule: int = 0, index: int = 0) -> list[tuple[str, dict[str, Any] | None]]:
    return [(r["type"], r["context"]) for r in rules(outcome, index)[rule]["resolutions"]]
