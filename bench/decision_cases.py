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
from policyhub.engine.compiled import Evaluation
from policyhub.engine.engine import DecisionRequest
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
    start = time.perf_counter()
    for i in range(iterations):
        engine.decide(org.id, requests[i % 64])
    decide_us = (time.perf_counter() - start) / iterations * 1e6
    prepared = engine.prepare(engine.snapshot(org.id), requests[0])
    compiled = [e.compiled for e in prepared.entries]
    evaluation = Evaluation(case.point, "bench", prepared.input, time.time(), prepared.snapshot, engine.limiter,
                            engine.judge)
    start = time.perf_counter()
    for _ in range(iterations):
        evaluation.now = time.time()
        evaluation.memo = {}  # per-decision caches (e.g. detector findings) start empty
        for c in compiled:
            c.evaluate(evaluation)
    evaluate_us = (time.perf_counter() - start) / iterations * 1e6
    return Timing(decide_us, evaluate_us, result.decision.value)


def report(iterations: int) -> str:
    """Time every case and return a table: µs per decision via the engine and via the compiled policy."""
    lines = ["| case | engine.decide µs | compiled.evaluate µs | decision |", "|---|---|---|---|"]
    for case, t in zip(cases(), measure(cases(), iterations), strict=True):
        lines.append(f"| {case.title} | {t.decide_us:.1f} | {t.evaluate_us:.1f} | {t.decision} |")
    return "\n".join(lines)
