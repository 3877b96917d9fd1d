"""The HTTP scenarios of one backend and the choice of load generator."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

from bench import loadgen, wrkgen
from bench.payloads import RequestSpec, patch_body_parts, put_body_parts
from bench.server import ORG, TOKEN
from bench.stats import Result

MERGE_PATCH = "application/merge-patch+json"
_counter_bases = itertools.count(1)


def policy_names(connections: int) -> list[str]:
    return [f"p-{i:03d}" for i in range(connections)]


HOT = "hot"


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    spec: RequestSpec


def scenarios(connections: int) -> list[Scenario]:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    base = f"/v1/orgs/{ORG}/policies"
    spread = tuple(f"{base}/{n}" for n in policy_names(connections))
    patch = {**auth, "Content-Type": MERGE_PATCH}
    put = {**auth, "Content-Type": "application/json"}
    return [
        Scenario("trivial", "GET /healthz (trivial endpoint)", RequestSpec("GET", ("/healthz",))),
        Scenario("get", "GET policy (auth + 1 read)", RequestSpec("GET", spread, auth)),
        Scenario("patch", f"PATCH merge, {connections} policies",
                 RequestSpec("PATCH", spread, patch, patch_body_parts())),
        Scenario("put", f"PUT replace, {connections} policies",
                 RequestSpec("PUT", spread, put, put_body_parts())),
        Scenario("patch_hot", "PATCH merge, 1 hot policy (contended)",
                 RequestSpec("PATCH", (f"{base}/{HOT}",), patch, patch_body_parts())),
    ]


Runner = Callable[..., Result]


def runner(client: str) -> Runner:
    return wrkgen.run_load if client == "wrk" else loadgen.run_load


def run(client: str, scenario: Scenario, port: int, *, connections: int, warmup_s: float, seconds: float,
        server_cpu: Callable[[], float], wrk_threads: int = 2) -> Result:
    kwargs: dict[str, object] = {"threads": wrk_threads} if client == "wrk" else {}
    return runner(client)(
        scenario.title, "127.0.0.1", port, scenario.spec, connections=connections, warmup_s=warmup_s,
        seconds=seconds, counter_base=next(_counter_bases) * 10**9, server_cpu=server_cpu, **kwargs,
    )
