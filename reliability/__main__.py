"""Runner: every selected scenario on every selected backend, then one table; exit 1 on any failure.

A missing prerequisite (PostgreSQL unreachable, no way to start a throwaway cluster, no schemathesis)
is a SKIP with its reason on a developer's machine and a FAIL in CI (``CI=true``).
"""

from __future__ import annotations

import argparse
import importlib
import random
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path
from types import ModuleType

from reliability.context import IN_CI, Context
from reliability.databases import Backend, pg_unreachable_reason
from reliability.report import Result, Status, table

SCENARIOS: dict[str, str] = {
    "1": "s1_lost_updates",
    "2": "s2_upsert",
    "3": "s3_crash",
    "4": "s4_db_down",
    "5": "s5_hostile",
    "6": "s6_authz",
    "7": "s7_fuzz",
    "8": "s8_audit",
    "9": "s9_load",
    "10": "s10_isolation",
    "11": "s11_agents",
}
TITLES = {
    "1": "no lost updates",
    "2": "concurrent upsert",
    "3": "crash durability",
    "4": "database down",
    "5": "hostile input corpus",
    "6": "authorization matrix",
    "7": "schema-driven fuzzing",
    "8": "audit integrity",
    "9": "bounded load",
    "10": "tenant isolation (hostile)",
    "11": "agents: hub outage, crash",
}
#: Run in the long form (and with --only) but not by default in the CI form: over its 40 s budget there.
LONG_FORM_ONLY = {"11"}


def _parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m reliability", description=__doc__)
    p.add_argument("--form", choices=("ci", "long"), default="long", help="ci: short budgets; long: full figures")
    p.add_argument("--backends", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    p.add_argument("--only", default="", help="comma-separated scenario numbers (default: all nine)")
    p.add_argument("--seed", type=int, default=None, help="random seed (crash points, fuzzing); printed")
    p.add_argument("--keep", action="store_true", help="keep the work dir (server logs, SQLite files)")
    return p.parse_args(argv)


def _run_one(number: str, module: ModuleType, ctx: Context) -> list[Result]:
    started = time.monotonic()
    try:
        results: list[Result] = module.run(ctx)
    except Exception as exc:  # a crash of the suite itself is a failure of the row, with its traceback
        tb = traceback.format_exc(limit=6)
        results = [Result(number, TITLES[number], ctx.backend.name, f"suite error: {exc!r}"[:300], Status.FAIL, [tb])]
    elapsed = time.monotonic() - started
    for r in results:
        r.seconds = r.seconds or elapsed / len(results)
        if r.status is Status.SKIP and ctx.in_ci:
            r.status = Status.FAIL
            r.problems.append(f"CI=true: a missing prerequisite is a failure ({r.figures})")
    return results


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    seed = args.seed if args.seed is not None else random.randrange(1, 10**6)
    only = [s.strip() for s in args.only.split(",") if s.strip()] or [
        s for s in SCENARIOS if args.form == "long" or s not in LONG_FORM_ONLY
    ]
    unknown = [s for s in only if s not in SCENARIOS]
    if unknown:
        print(f"unknown scenario(s): {unknown}", file=sys.stderr)
        return 2
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    workdir = Path(tempfile.mkdtemp(prefix="policyhub-reliability-"))
    print(
        f"reliability: form={args.form} backends={','.join(backends)} scenarios={','.join(only)} seed={seed} "
        f"CI={IN_CI} workdir={workdir}",
        file=sys.stderr,
        flush=True,
    )
    results: list[Result] = []
    total_start = time.monotonic()
    try:
        for name in backends:
            if name not in ("sqlite", "postgres"):
                print(f"unknown backend {name!r}", file=sys.stderr)
                return 2
            backend = Backend(name, workdir)
            reason = pg_unreachable_reason() if name == "postgres" else None
            for index, number in enumerate(only):
                if reason:
                    status = Status.FAIL if IN_CI else Status.SKIP
                    results.append(Result(number, TITLES[number], name, f"PostgreSQL unreachable: {reason}", status))
                    continue
                random.seed(seed * 100 + index)
                ctx = Context(form=args.form, backend=backend, workdir=workdir, seed=seed)
                module = importlib.import_module(f"reliability.{SCENARIOS[number]}")
                rows = _run_one(number, module, ctx)
                results += rows
                for r in rows:
                    print(
                        f"  [{r.status.value}] {r.scenario} {r.title} ({r.backend}, {r.seconds:.1f}s): {r.figures}",
                        file=sys.stderr,
                        flush=True,
                    )
            backend.drop_all()
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print()
    print(f"PolicyHub reliability suite — form={args.form}, seed={seed}, {time.monotonic() - total_start:.0f} s")
    print(table(results))
    failed = [r for r in results if r.status is Status.FAIL]
    for r in failed:
        print(f"\nFAIL {r.scenario} {r.title} ({r.backend}):")
        for problem in r.problems[:15]:
            print(f"  - {problem}")
        if len(r.problems) > 15:
            print(f"  ... and {len(r.problems) - 15} more")
    counts = {s: sum(r.status is s for r in results) for s in Status}
    print(
        f"\n{counts[Status.PASS]} passed, {counts[Status.FAIL]} failed"
        + (f", {counts[Status.SKIP]} skipped" if counts[Status.SKIP] else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
