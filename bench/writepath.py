"""Where one PATCH's time goes inside the server process, without HTTP: ``python -m bench.writepath``.

Builds the app's own container on a scratch database, then runs the request's steps in one thread,
one PATCH after another: the json_body parse, the auth lookup (``keys.authenticate`` in a read
transaction, as the auth dependency does), ``db.transact(merge_patch)`` and the response rendering.
Chosen functions are wrapped with timers (monkeypatched in this process only), so the table shows
inclusive microseconds per PATCH for each step, wall and CPU (CPU of the thread that ran the step:
with SQLite group commit the write transaction runs on the writer thread); nested rows are part of
the rows above them. ``SQLAlchemy overhead`` = time in ``Connection.execute`` minus the driver's
``cursor.execute`` inside it.
"""

from __future__ import annotations

import argparse
import functools
import inspect
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.payloads import create_body, patch_body_parts
from bench.server import ORG, TOKEN, ScratchPostgres

_wall: dict[str, float] = {}
_cpu: dict[str, float] = {}
_calls: dict[str, int] = {}
_ORDER: list[str] = []


def _timed(label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    _ORDER.append(label)
    _wall[label] = _cpu[label] = 0.0
    _calls[label] = 0

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        w, c = time.perf_counter(), time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            _wall[label] += time.perf_counter() - w
            _cpu[label] += time.thread_time() - c
            _calls[label] += 1

    return wrapper


def _wrap(owner: Any, name: str, label: str, *, static: bool = False) -> None:
    original = inspect.getattr_static(owner, name) if static else getattr(owner, name)  # inherited too
    fn = original.__func__ if static else original
    wrapped = _timed(label, fn)
    setattr(owner, name, staticmethod(wrapped) if static else wrapped)


def instrument() -> None:
    """Wrap the write path's steps (before the container is built, for the JSON serializer)."""
    import jsonpatch
    from sqlalchemy.engine import base, default
    from sqlalchemy.sql import compiler

    from policyhub.domain import canonical
    from policyhub.http.v1 import render
    from policyhub.services import audit
    from policyhub.services import policies as svc
    from policyhub.services import policy_planning as planning
    from policyhub.storage import connect
    from policyhub.storage.repositories import events, orgs, policies

    _wrap(svc.PolicyService, "merge_patch", "merge_patch (service, inside the txn)")
    _wrap(audit, "lock_org", "  audit.lock_org: SELECT org ... FOR UPDATE")
    _wrap(svc.PolicyService, "_find", "  _find: SELECT policy by name", static=True)
    _wrap(planning, "merge_patch", "  merge_patch(document, patch) (RFC 7396)")
    _wrap(svc.PolicyService, "_draft", "  _draft: PolicyFields validation + normalize")
    _wrap(planning, "content_hash", "  content_hash x2 (canonical JSON + sha256)")
    _wrap(svc.PolicyService, "_persist", "  _persist: the change statement (row, version, events, chain)", static=True)
    _wrap(policies.PolicyRepository, "insert_version", "  INSERT policy_versions")
    _wrap(policies.PolicyRepository, "set_references", "  DELETE policy_references (set_references)")
    _wrap(audit, "record", "  audit.record: event hash, INSERT event, UPDATE org")
    _wrap(svc.PolicyService, "_result", "  _result: jsonpatch.make_patch diff", static=True)
    _wrap(planning, "to_document", "  to_document (called several times)")
    _wrap(base.Connection, "execute", "all SQL: Connection.execute (SQLAlchemy + driver)")
    _wrap(default.DefaultDialect, "do_execute", "  driver cursor.execute")
    _wrap(default.DefaultDialect, "do_commit", "driver COMMIT (WAL write + fsync)")
    _wrap(connect, "dumps", "JSON column serialisation (connect.dumps)")
    _wrap(canonical, "canonical_json", "canonical_json (hashes, ETag-free)")
    _wrap(jsonpatch, "make_patch", "jsonpatch.make_patch")
    _wrap(render, "write_response", "render: write_response (JSON body + ETag)")
    _wrap(compiler.SQLCompiler, "__init__", "SQLAlchemy compiles (compiled-cache misses)")
    _ = (events, orgs)


def _setup(url: str) -> None:
    from policyhub.services.orgs import bootstrap
    from policyhub.storage.db import Database
    from policyhub.storage.migrate import upgrade

    upgrade(url)
    db = Database(url, pool_size=1)
    try:
        bootstrap(db, ORG, TOKEN)
    finally:
        db.dispose()


def run(url: str, count: int) -> str:
    _setup(url)
    instrument()
    import json

    from policyhub.app import build_container
    from policyhub.http.json_body import parse_json
    from policyhub.http.v1.render import write_response
    from policyhub.services import keys
    from policyhub.services.policies import Preconditions
    from policyhub.settings import Settings

    with warnings.catch_warnings():  # SQLAlchemy warns about the timer closure around db.dumps
        warnings.simplefilter("ignore")
        c = build_container(Settings(database_url=url))
    prefix, suffix = patch_body_parts()
    create = json.loads(create_body("p-000"))
    create.pop("type")
    with c.db.read() as uow:
        actor, org, _ = keys.authenticate(uow, TOKEN)
    c.db.transact(lambda uow: c.policies.create(uow, actor, org, create, type_name="document", scope=None))
    steps = {k: _timed(k, f) for k, f in (
        ("json_body: parse_json (strict hooks)", parse_json),
        ("auth, uncached: db.read + keys.authenticate", lambda: _auth(c, keys)),
        ("db.transact(merge_patch): the write txn", c.db.transact),
    )}
    n = 0

    def one() -> None:
        nonlocal n
        n += 1
        body = steps["json_body: parse_json (strict hooks)"](prefix + str(n).encode() + suffix, max_depth=64)
        steps["auth, uncached: db.read + keys.authenticate"]()
        result = steps["db.transact(merge_patch): the write txn"](
            lambda uow: c.policies.merge_patch(uow, actor, org, "p-000", body, Preconditions(), ""))
        write_response(result, dry_run=False)

    for _ in range(min(200, count)):
        one()
    for k in _ORDER:
        _wall[k] = _cpu[k] = 0.0
        _calls[k] = 0
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        one()
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    c.db.dispose()
    return _table(url, count, wall, cpu)


def _auth(c: Any, keys: Any) -> None:
    with c.db.read() as uow:
        keys.authenticate(uow, TOKEN)


def _table(url: str, count: int, wall: float, cpu: float) -> str:
    backend = "sqlite" if url.startswith("sqlite") else "postgres"
    lines = [f"[{backend}] {count} PATCHes in one thread, no HTTP: {wall / count * 1e6:.0f} us wall, "
             f"{cpu / count * 1e6:.0f} us CPU per PATCH ({count / wall:.0f}/s)",
             f"  {'step (inclusive; indented = part of the row above)':<58} {'calls':>5} {'wall us':>8} "
             f"{'cpu us':>7} {'% wall':>6}"]
    order = _ORDER[-3:] + _ORDER[:-3]
    for k in order:
        if _calls[k]:
            lines.append(f"  {k:<58} {_calls[k] / count:5.1f} {_wall[k] / count * 1e6:8.0f} "
                         f"{_cpu[k] / count * 1e6:7.0f} {_wall[k] / wall * 100:5.1f}%")
    sa = _wall["all SQL: Connection.execute (SQLAlchemy + driver)"] - _wall["  driver cursor.execute"]
    stmts = _calls["all SQL: Connection.execute (SQLAlchemy + driver)"] / count
    lines.append(f"  => SQLAlchemy overhead around the driver: {sa / count * 1e6:.0f} us per PATCH "
                 f"({stmts:.1f} statements, {sa / count / max(stmts, 1) * 1e6:.0f} us each)")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.writepath", description=__doc__.split("\n\n")[0])
    p.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--count", type=int, default=1000, help="PATCHes measured (default 1000)")
    args = p.parse_args()
    count = min(max(args.count, 10), 100_000)
    if args.backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="policyhub-writepath-") as tmp:
            print(run(f"sqlite:///{Path(tmp) / 'w.db'}", count))
        return
    pg = ScratchPostgres()
    pg.create()
    try:
        print(run(pg.url, count))
    finally:
        pg.drop()


if __name__ == "__main__":
    main()
