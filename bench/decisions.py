"""The decision benchmark: ``python -m bench.decisions [--seconds S] [--connections C] [--workers W]
[--policies 1,10,100] [--backends sqlite,postgres]``.

In one run: (1) in-process evaluation time per decision for a rate limit, a condition, a Kosli
environment, a Rego gate and an AI-content check (bench.decision_cases), and (2) the server as a
subprocess under HTTP load: GET /healthz (the trivial-endpoint baseline) and POST decisions with 1, 10
and 100 policies in scope, then the ratio of each to the baseline. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from bench import decision_cases, scenarios
from bench.payloads import RequestSpec
from bench.report import table
from bench.server import ORG, TOKEN, ScratchPostgres, ServerProcess
from bench.stats import Result

BACKENDS = ("sqlite", "postgres")
MARK = "__COUNTER__"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.decisions", description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=8.0, help="measured seconds per HTTP figure (default 8)")
    p.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds before each figure (default 2)")
    p.add_argument("--connections", type=int, default=64, help="concurrent HTTP connections (default 64)")
    p.add_argument("--workers", type=int, default=2, help="server worker processes (default 2)")
    p.add_argument("--policies", default="1,10,100", help="policies in scope per HTTP figure (default 1,10,100)")
    p.add_argument("--backends", default="sqlite", help="comma-separated: sqlite,postgres (default sqlite)")
    p.add_argument("--iterations", type=int, default=20000, help="in-process evaluations per case (default 20000)")
    p.add_argument("--skip-inprocess", action="store_true")
    p.add_argument("--skip-http", action="store_true")
    p.add_argument("--log-sample", type=float, default=None,
                   help="POLICYHUB_DECISION_LOG_SAMPLE_ALLOW for the server (default: the server's default)")
    args = p.parse_args(argv)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if any(b not in BACKENDS for b in args.backends):
        p.error("backends: sqlite, postgres")
    args.policies = [int(n) for n in args.policies.split(",")]
    return args


def say(text: str) -> None:
    print(text, flush=True)


def decision_body(scope: str) -> tuple[bytes, bytes]:
    """A gateway's question; the counter makes each request's input different (no caching by input)."""
    body = {
        "point": "http_request",
        "scope": scope,
        "input": {
            "method": "GET",
            "path": "/v1/items",
            "client_ip": "10.1.2.3",
            "user": "alice@example.com",
            "headers": {"x-api-key": "k-123", "user-agent": "bench"},
            "context": {"request_id": MARK},
        },
    }
    prefix, suffix = json.dumps(body, separators=(",", ":")).split(json.dumps(MARK), 1)
    return prefix.encode(), suffix.encode()


def seed(server: ServerProcess, counts: list[int]) -> None:
    """One scope per policy count, holding that many gateway policies (access lists and rate limits)."""
    for n in counts:
        status, answer = server.request(
            "POST", f"/v1/orgs/{ORG}/scopes", json.dumps({"kind": "endpoint", "key": f"s{n}"}).encode()
        )
        if status != 201:
            raise RuntimeError(f"creating scope s{n}: {status} {answer[:200]!r}")
        for i in range(n):
            server.create_policy(json.dumps(decision_cases.gateway_policy(f"s{n}-p{i:03d}", f"s{n}", i)).encode())


def run_http(backend: str, args: argparse.Namespace, tmp: Path) -> list[tuple[str, Result]]:
    pg = ScratchPostgres() if backend == "postgres" else None
    url = pg.url if pg else f"sqlite:///{tmp / 'decisions.db'}"
    env = {} if args.log_sample is None else {"POLICYHUB_DECISION_LOG_SAMPLE_ALLOW": str(args.log_sample)}
    if pg:
        pg.create()
    server = ServerProcess(url, workers=args.workers, workdir=tmp, extra_env=env)
    rows: list[tuple[str, Result]] = []
    try:
        server.start()
        seed(server, args.policies)
        auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        path = f"/v1/orgs/{ORG}/decisions"
        specs = [("GET /healthz (trivial endpoint)", RequestSpec("GET", ("/healthz",)))]
        specs += [
            (f"POST decision, {n} policies in scope", RequestSpec("POST", (path,), auth, decision_body(f"s{n}")))
            for n in args.policies
        ]
        for title, spec in specs:
            scenario = scenarios.Scenario(title, title, spec)
            result = scenarios.run("python", scenario, server.port, connections=args.connections,
                                   warmup_s=args.warmup, seconds=args.seconds, server_cpu=server.cpu_s)
            rows.append((backend, result))
            say(f"  {title}: {result.rate:,.0f}/s p50 {result.p50_ms:.1f} ms p99 {result.p99_ms:.1f} ms"
                f" errors {result.errors} {dict(result.statuses)}")
    finally:
        server.stop()
        if pg:
            pg.drop()
    return rows


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if not args.skip_inprocess:
        say(f"## In-process evaluation ({args.iterations:,} decisions per case, one thread)")
        say(decision_cases.report(args.iterations))
    if args.skip_http:
        return
    say(f"## HTTP decisions ({args.connections} connections, {args.workers} workers, Python load generator)")
    with tempfile.TemporaryDirectory(prefix="bench-decisions-") as tmpdir:
        rows: list[tuple[str, Result]] = []
        for backend in args.backends:
            rows += run_http(backend, args, Path(tmpdir))
    say(table(rows))
    for backend in args.backends:
        mine = [r for b, r in rows if b == backend]
        base = mine[0].rate
        for r in mine[1:]:
            say(f"{backend}: {r.name}: {r.rate / base:.0%} of the trivial endpoint ({r.rate:,.0f} vs {base:,.0f}/s)")


if __name__ == "__main__":
    main()
