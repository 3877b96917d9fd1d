"""In-process decision cases: one policy of each evaluator family, timed through the engine and alone.

Each case creates its policies through the real app (TestClient on a scratch SQLite file), then times
``DecisionEngine.decide`` (snapshot check + input validation + selection + evaluation + combination,
everything but HTTP and the log) and the compiled policy's ``evaluate`` alone.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from policyhub.app import build_container
from policyhub.engine.engine import DecisionRequest
from policyhub.evaluation.compiled import Evaluation
from policyhub.http.app import create_app
from policyhub.services.orgs import create_org
from policyhub.settings import Settings
from policyhub.storage.migrate import upgrade


def gateway_policy(name: str, scope: str, i: int) -> dict[str, Any]:
    """The HTTP benchmark's policies: alternately an access list and a (never reached) per-user rate limit."""
    if i % 2 == 0:
        spec: dict[str, Any] = {"denied_users": ["*@blocked.example", f"user{i}@example.org"]}
        return {"name": name, "type": "syftspace.access", "scope": scope, "spec": spec}
    return {"name": name, "type": "syftspace.rate_limit", "scope": scope, "spec": {"limit": "1000000000/h"}}


@dataclass
class Case:
    title: str
    policies: list[dict[str, Any]]  # bodies for POST /v1/orgs/{org}/policies (scope "bench" exists)
    point: str
    input: Callable[[int], dict[str, Any]]  # the i-th decision's input
    setup: Callable[[Any], None] | None = None  # extra set-up through the org client (resources, attachments)


def cases() -> list[Case]:
    from bench.decision_inputs import CASES

    return CASES


@dataclass(frozen=True)
class Timing:
    decide_us: float  # engine.decide: everything but HTTP and the log
    evaluate_us: float  # the compiled policies' evaluate alone
    decision: str


def measure(chosen: list[Case], iterations: int) -> list[Timing]:
    """Create each case's policies through the real app on scratch SQLite and time its decisions."""
    timings = []
    with tempfile.TemporaryDirectory(prefix="bench-inproc-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'inproc.db'}"
        upgrade(url)
        container = build_container(Settings(database_url=url, access_log=False, decision_refresh_s=60.0))
        try:
            with TestClient(create_app(container=container)) as client:
                for n, case in enumerate(chosen):
                    timings.append(_measure_one(container, client, case, f"bench-{n}", iterations))
        finally:
            container.decisions.log.close()
            container.db.dispose()
    return timings


def _measure_one(container: Any, client: TestClient, case: Case, slug: str, iterations: int) -> Timing:
    with container.db.write() as uow:
        created = create_org(uow, slug)
    org, headers = created.org, {"Authorization": f"Bearer {created.admin_token}"}
    base = f"/v1/orgs/{org.slug}"
    r = client.post(f"{base}/scopes", json={"kind": "endpoint", "key": "bench"}, headers=headers)
    assert r.status_code == 201, r.text
    if case.setup is not None:
        case.setup((client, base, headers))
    for body in case.policies:
        r = client.post(f"{base}/policies", json=body, headers=headers)
        assert r.status_code == 201, f"{case.title}: {r.text}"
    engine = container.decisions.engine
    engine.refresh(org.id)
    requests = [DecisionRequest(case.point, case.input(i), "bench") for i in range(64)]
    result = engine.decide(org.id, requests[0])

    def decide(n: int) -> None:
        for i in range(n):
            engine.decide(org.id, requests[i % 64])

    prepared = engine.prepare(engine.snapshot(org.id), requests[0])
    compiled = [e.compiled for e in prepared.entries]
    evaluation = Evaluation(case.point, "bench", prepared.input, time.time(), prepared.snapshot, engine.limiter,
                            engine.judge)

    def evaluate(n: int) -> None:
        for _ in range(n):
            evaluation.now = time.time()
            evaluation.memo = {}  # per-decision caches (e.g. detector findings) start empty
            for c in compiled:
                c.evaluate(evaluation)

    return Timing(_best_us(decide, iterations), _best_us(evaluate, iterations), result.decision.value)


def _best_us(run: Callable[[int], None], iterations: int, rounds: int = 5) -> float:
    """µs per call: the best of ``rounds`` rounds of ``iterations / rounds`` calls (the machine's noise only
    ever adds time, so the best round is the truest figure)."""
    per_round = max(1, iterations // rounds)
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        run(per_round)
        best = min(best, (time.perf_counter() - start) / per_round)
    return best * 1e6


def report(iterations: int) -> str:
    """Time every case and return a table: µs per decision via the engine and via the compiled policy,
    with a machine reference measured in the same run (this class of machine varies 1.5-2x in speed)."""
    before = reference_us()
    timings = measure(cases(), iterations)
    reference = min(before, reference_us())
    lines = [
        "| case | engine.decide µs | compiled.evaluate µs | decision |",
        "|---|---|---|---|",
        *(
            f"| {case.title} | {t.decide_us:.1f} | {t.evaluate_us:.1f} | {t.decision} |"
            for case, t in zip(cases(), timings, strict=True)
        ),
        f"machine reference (same run): a 1,000-step pure-Python loop takes {reference:.1f} µs here",
    ]
    return "\n".join(lines)


def reference_us(rounds: int = 200) -> float:
    """The best of ``rounds`` timings of a fixed 1,000-step pure-Python loop, in µs: a yardstick for the
    figures above (divide by it to compare runs on machines of different speed)."""

    def loop() -> int:
        total = 0
        for i in range(1000):
            total += i
        return total

    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        loop()
        best = min(best, time.perf_counter() - start)
    return best * 1e6
