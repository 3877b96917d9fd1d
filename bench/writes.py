"""The write-path benchmark: ``python -m bench.writes [--seconds S] [--connections C]
[--backends sqlite,postgres] [--workers W]``.

In one run, per backend: the raw durable-write floor (plain sqlite3 / psycopg), then the server as a
subprocess under load over HTTP (GET /healthz, GET policy, PATCH and PUT spread over C policies, PATCH
of one hot policy), then the ratios and targets. See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from bench import capacity, floors, profile, scenarios
from bench.cpu import machine_busy_s
from bench.loadgen import new_loop
from bench.payloads import body_size, create_body
from bench.report import BackendFigures, ratios, row, table
from bench.server import ScratchPostgres, ServerProcess
from bench.stats import Result

BACKENDS = ("sqlite", "postgres")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.writes", description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=10.0, help="measured seconds per scenario (default 10)")
    p.add_argument("--warmup", type=float, default=2.0,
                   help="warm-up seconds before each scenario (default 2)")
    p.add_argument("--connections", type=int, default=64, help="concurrent HTTP connections (default 64)")
    p.add_argument("--backends", default="sqlite,postgres", help="comma-separated: sqlite,postgres")
    p.add_argument("--workers", type=int, default=1, help="server worker processes (default 1)")
    p.add_argument("--client", choices=("auto", "python", "wrk"), default="auto",
                   help="load generator: auto = wrk when installed and notably cheaper per request, else Python")
    p.add_argument("--wrk-threads", type=int, default=2, help="wrk threads (default 2)")
    p.add_argument("--floor-threads", type=int, default=64,
                   help="threads for the concurrent psycopg floor (0 = skip; default 64)")
    p.add_argument("--scenarios", default="trivial,get,patch,put,patch_hot",
                   help="HTTP scenarios to run (default: all)")
    p.add_argument("--profile", type=Path, default=None,
                   help="after measuring, sample the server with py-spy under PATCH load; write stacks here")
    p.add_argument("--profile-gil", action="store_true",
                   help="py-spy --gil: sample only the thread holding the GIL (where the CPU goes)")
    p.add_argument("--profile-scenario", default="patch", help="scenario to profile (default patch)")
    p.add_argument("--wait-quiet", type=float, default=0.0,
                   help="wait up to this many seconds for the machine's background load to drop below 30%%")
    p.add_argument("--tmpdir", type=Path, default=None,
                   help="where the SQLite files go (default: the system temp dir)")
    args = p.parse_args(argv)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    bad = [b for b in args.backends if b not in BACKENDS]
    if bad:
        p.error(f"unknown backend(s): {', '.join(bad)}")
    args.seconds = min(max(args.seconds, 1.0), 600.0)
    args.warmup = min(max(args.warmup, 0.0), 60.0)
    args.connections = min(max(args.connections, 1), 1024)
    return args


def background_load(sample_s: float = 1.0) -> float:
    """Per cent of one core the machine was busy with while this process slept."""
    a = machine_busy_s()
    time.sleep(sample_s)
    return (machine_busy_s() - a) / sample_s * 100


def say(text: str) -> None:
    print(text, flush=True)


def run_backend(backend: str, args: argparse.Namespace, client: str, tmp: Path,
                results: list[tuple[str, Result]]) -> BackendFigures:
    fig = BackendFigures(backend, args.connections)
    pg = ScratchPostgres() if backend == "postgres" else None

    def add(r: Result) -> Result:
        results.append((backend, r))
        say(row(backend, r))
        return r

    try:
        if pg is not None:
            pg.create()
            say(f"[postgres] scratch database {pg.name}; settings: {pg.settings()}")
            fig.floor = add(floors.postgres_floor(pg.dsn, args.seconds))
            if args.floor_threads > 0:
                threads = args.floor_threads
                fig.floor_threads = add(floors.postgres_floor_threads(pg.dsn, args.seconds, threads))
            url = pg.url
        else:
            fig.floor = add(floors.sqlite_floor(tmp / "floor.db", args.seconds))
            url = f"sqlite:///{tmp / 'policyhub.db'}"
        server = ServerProcess(url, workers=args.workers, workdir=tmp)
        server.start()
        try:
            first = len(results)
            _run_http(server, args, client, fig, add)
            if any(any(k.startswith("5") for k in r.statuses) for _, r in results[first:]):
                say(f"[{backend}] the server answered 5xx; the end of its log:\n{server.log_tail(4000)}")
            if args.profile is not None:
                _profile(server, args, client, backend)
        finally:
            server.stop()
    finally:
        if pg is not None:
            pg.drop()
    return fig


def _run_http(server: ServerProcess, args: argparse.Namespace, client: str, fig: BackendFigures,
              add: object) -> None:
    assert callable(add)
    for name in [*scenarios.policy_names(args.connections), scenarios.HOT]:
        server.create_policy(create_body(name))
    wanted = {s.strip() for s in args.scenarios.split(",")}
    for sc in scenarios.scenarios(args.connections):
        if sc.key not in wanted:
            continue
        r = add(scenarios.run(client, sc, server.port, connections=args.connections, warmup_s=args.warmup,
                              seconds=args.seconds, server_cpu=server.cpu_s, wrk_threads=args.wrk_threads))
        setattr(fig, sc.key, r)


def _profile(server: ServerProcess, args: argparse.Namespace, client: str, backend: str) -> None:
    assert server.proc is not None
    out_dir: Path = args.profile
    out_dir.mkdir(parents=True, exist_ok=True)
    suffix = "-gil" if args.profile_gil else ""
    key = args.profile_scenario
    out = out_dir / f"{backend}-w{args.workers}-{key}{suffix}.txt"
    chosen = next(s for s in scenarios.scenarios(args.connections) if s.key == key)
    spy = profile.start(server.proc.pid, out, args.seconds, subprocesses=args.workers > 1,
                        gil=args.profile_gil)
    try:
        r = scenarios.run(client, chosen, server.port, connections=args.connections, warmup_s=0.0,
                          seconds=args.seconds, server_cpu=server.cpu_s, wrk_threads=args.wrk_threads)
        _, err = spy.communicate(timeout=args.seconds + 60)
    finally:
        if spy.poll() is None:
            spy.terminate()
            spy.wait(timeout=10)
    say(f"\n[profile] {backend}: {chosen.title} under py-spy: {r.rate:.0f} req/s "
        "(sampling slows the server a little)")
    say(profile.summarise(out) if out.exists() else f"py-spy wrote nothing: {err.decode()[-500:]}")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    loop_kind = new_loop()[1]
    say(f"PolicyHub write-path benchmark: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()} ({loop_kind} client loop)")
    say(f"  seconds={args.seconds:g} warmup={args.warmup:g} connections={args.connections} "
        f"workers={args.workers} backends={','.join(args.backends)} body~{body_size()} B")
    load = background_load()
    waited = 0.0
    while load > 30 and waited < min(args.wait_quiet, 3600):
        time.sleep(4.0)
        waited += 5.0
        load = background_load()
    say(f"  background load before start: {load:.0f}% of one core (should be near 0)"
        + (f", after waiting {waited:.0f} s" if waited else ""))
    client, cap, why = capacity.choose(args.client, args.connections, args.wrk_threads)
    say("\nLoad generator capacity (against a canned-response stub server, same connection count):")
    say(table([("-", r) for r in cap]))
    say(f"=> using the {client} client: {why}\n")
    say("Figures as they come (srv/cli/oth = CPU % of one core used by server / load generator / "
        "everything else in the window):")
    say(table([]))
    results: list[tuple[str, Result]] = []
    figures = []
    base_tmp = args.tmpdir or Path(tempfile.gettempdir())
    with tempfile.TemporaryDirectory(prefix="policyhub-bench-", dir=base_tmp) as tmp:
        for backend in args.backends:
            figures.append(run_backend(backend, args, client, Path(tmp), results))
    say(f"\n=== Results ({client} client, {args.connections} connections, workers={args.workers}, "
        f"{args.seconds:g} s per figure) ===")
    say(table(results))
    say("\n=== Ratios and targets ===")
    for f in figures:
        say(ratios(f))


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
