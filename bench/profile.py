"""Sampling the server with py-spy while it serves a scenario, and summarising the stacks.

``py-spy record --format raw`` writes collapsed stacks (``frame;frame;... count``, root first; a frame
reads ``function (file.py:line)``). Each sample is attributed twice, exclusively, so each breakdown
adds up to 100%:

* **phase** - where in the request it was spent: the first rule of ``PHASES`` that matches any frame
  of the stack (auth dependency, write transaction, thread hand-off, uvicorn, ...);
* **kind** - what code was running: the rule of ``KINDS`` that matches the innermost frame, looking
  from the leaf towards the root (the database driver, SQLAlchemy, json, pydantic, ...).

With ``--gil`` only the thread holding the GIL is sampled, so the shares are shares of the server's
Python CPU time; without it every thread is sampled, waiting or not (a wall-clock view of where
requests spend their time; idle pool threads and the idle event loop are left out).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

Rule = tuple[str, re.Pattern[str]]


def _rule(label: str, pattern: str) -> Rule:
    return label, re.compile(pattern)


#: phases whose rule is tried on the innermost frame only (what a thread is blocked in)
LEAF_PHASES: list[Rule] = [
    _rule("wait/hold: SQLite in-process write lock (Database.write)", r"^Database\.write \(policyhub"),
]
PHASES: list[Rule] = [
    _rule("wait: for the SQLite group-commit writer (Future.result)", r"^GroupCommitWriter\.submit \("),
    _rule("org lock: SELECT org ... FOR UPDATE (lock_chain)", r"^OrgRepository\.lock_chain \("),
    _rule("COMMIT (driver commit: WAL write + fsync)", r"^DefaultDialect\.do_commit \("),
    _rule("group-commit writer thread: planning on a read, outside the lock", r"^GroupCommitWriter\._prepare \("),
    _rule("group-commit writer thread: the write txns (jobs)", r"^(_run_job|_run_planned) \(policyhub/storage/group_c"),
    _rule("group-read thread: reads served together", r"\(policyhub/storage/group_read\.py"),
    _rule("group-commit writer thread: batch handling", r"\(policyhub/storage/group_commit\.py"),
    _rule("auth dependency: key lookup (own read txn)", r"^authenticate \(policyhub/http/deps\.py"),
    _rule("endpoint: inside db.transact (the write txn)", r"^Database\.(transact|write) \(policyhub"),
    _rule("endpoint: db.read enter/exit (pool, BEGIN, ROLLBACK)", r"^Database\.read \(policyhub"),
    _rule("endpoint: body (GET: its read; PUT/PATCH: parse, render)",
          r"^\w+_polic(y|ies) \(policyhub/http/v1/policies\.py"),
    _rule("json_body dependency (read + strict parse)", r"^json_body \(policyhub"),
    _rule("endpoint: the policy item route (enqueue, render)",
          r"^(hot_routes\.<locals>\.item|_patch|_put|_archive|_rendered) \(policyhub/http/v1/policies\.py"),
    _rule("thread hand-off (anyio worker threads, run_sync)", r"\((anyio|starlette/concurrency)"),
    _rule("FastAPI routing + dependency solving", r"\(fastapi/"),
    _rule("middleware (policyhub observability/body limit)", r"\(policyhub/http/middleware\.py"),
    _rule("Starlette (exception wrappers, responses)", r"\(starlette/"),
    _rule("uvicorn HTTP/1.1 protocol", r"\(uvicorn/"),
    _rule("event loop (uvloop/asyncio internals)", r"^(Runner\.run|run_forever|_run_once) |\(asyncio/"),
]

KINDS: list[Rule] = [
    _rule("DB driver calls (sqlite3/psycopg C code, commit, I/O)",
          r"^DefaultDialect\.do_(execute|executemany|commit|rollback|begin)|\(psycopg/|^PGDialect.*do_|"
          r"^SQLiteDialect.*do_|exec_driver_sql"),
    _rule("json (stdlib encode/decode)", r"\(json/"),
    _rule("hashlib / canonical JSON hashing", r"^(sha256_hex|content_hash|event_hash) "),
    _rule("pydantic validation", r"\(pydantic|model_validate"),
    _rule("jsonpatch (diff/patch)", r"\(jsonpatch|\(jsonpointer"),
    _rule("SQLAlchemy Core (build stmt, cache key, compile, result, pool)", r"\(sqlalchemy/"),
    _rule("policyhub code", r"\(policyhub/"),
    _rule("dataclasses / datetime helpers", r"\(dataclasses|<string>"),
    _rule("thread hand-off (anyio, threading, queue)", r"\((anyio/|threading\.py|queue\.py|starlette/concurrency)"),
    _rule("FastAPI", r"\(fastapi/"),
    _rule("Starlette", r"\(starlette/"),
    _rule("uvicorn", r"\(uvicorn/"),
    _rule("prometheus_client / structlog", r"\((prometheus_client|structlog)/"),
    _rule("asyncio / uvloop / contextlib", r"\(asyncio/|\(contextlib|^Runner\.run "),
]


def available() -> str | None:
    venv = Path(sys.executable).parent / "py-spy"
    return str(venv) if venv.exists() else shutil.which("py-spy")


def start(pid: int, out: Path, seconds: float, *, subprocesses: bool, gil: bool, rate: int = 250,
          ) -> subprocess.Popen[bytes]:
    exe = available()
    if exe is None:
        raise RuntimeError("py-spy is not installed (.venv/bin/pip install py-spy)")
    cmd = [exe, "record", "--pid", str(pid), "--duration", str(max(1, round(seconds))), "--rate", str(rate),
           "--format", "raw", "--output", str(out), "--nonblocking"]
    if subprocesses:
        cmd.append("--subprocesses")
    # --gil: only the GIL holder (a CPU view); else --idle: every thread, waiting ones too (a wall view,
    # in which threads blocked in the database driver show up; idle pool threads are dropped later)
    cmd.append("--gil" if gil else "--idle")
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def load(path: Path) -> list[tuple[list[str], int]]:
    stacks = []
    for line in path.read_text(errors="replace").splitlines():
        frames, _, count = line.rpartition(" ")
        if frames and count.isdigit():
            stacks.append(([f for f in frames.split(";") if not f.startswith("process ")], int(count)))
    return stacks


_WAIT_LEAVES = ("Condition.wait (threading", "Queue.get (queue", "Event.wait (threading", "select (",
                "GroupCommitWriter._run (policyhub")


def _is_idle(frames: list[str], gil: bool) -> bool:
    """A thread with nothing to do: waiting, and not on behalf of a request (no policyhub frame)."""
    leaf = frames[-1] if frames else ""
    if not gil and leaf.startswith("Runner.run "):  # the event loop, mostly blocked in epoll
        return True
    if not leaf.startswith(_WAIT_LEAVES):
        return False
    return not any("(policyhub/" in f and not f.startswith("GroupCommitWriter._run (") for f in frames)


def _busy(path: Path) -> list[tuple[list[str], int]]:
    gil = "-gil" in path.name
    return [(f, c) for f, c in load(path) if f and not _is_idle(f, gil)]


def _phase(frames: list[str]) -> str:
    for label, pattern in LEAF_PHASES:
        if pattern.search(frames[-1]):
            return label
    for label, pattern in PHASES:
        if any(pattern.search(f) for f in frames):
            return label
    return "other"


def _kind(frames: list[str]) -> str:
    for frame in reversed(frames):
        for label, pattern in KINDS:
            if pattern.search(frame):
                return label
    return "other (C builtins, stdlib)"


def summarise(path: Path, top: int = 20) -> str:
    stacks = _busy(path)
    total = sum(c for _, c in stacks)
    if not total:
        return f"{path}: no samples"
    phases: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    for frames, count in stacks:
        phases[_phase(frames)] += count
        kinds[_kind(frames)] += count
        leaves[frames[-1]] += count
    view = "CPU view: GIL holder only" if "-gil" in path.name else "wall view: all non-idle threads"
    lines = [f"{path.name}: {total} busy samples ({view})"]
    for title, counter in (("by phase (where in the request)", phases), ("by kind (what code ran)", kinds)):
        lines.append(f"  {title}:")
        lines += [f"    {c / total * 100:5.1f}%  {label}" for label, c in counter.most_common()]
    writer = writer_view(path)
    if writer:
        lines.append(writer)
    lines.append(f"  top {top} frames by self time:")
    lines += [f"    {c / total * 100:5.1f}%  {frame[:140]}" for frame, c in leaves.most_common(top)]
    return "\n".join(lines)


def writer_view(path: Path) -> str:
    """The SQLite group-commit writer thread alone (wall view): how busy it is, and with what."""
    stacks = [(f, c) for f, c in load(path) if any(x.startswith("GroupCommitWriter._run (") for x in f)]
    total = sum(c for _, c in stacks)
    if not total or "-gil" in path.name:
        return ""
    kinds: Counter[str] = Counter()
    for frames, count in stacks:
        idle = frames[-1].startswith("GroupCommitWriter._run (")
        kinds["(idle: waiting for jobs)" if idle else _kind(frames)] += count
    lines = [f"  the group-commit writer thread alone ({total} samples):"]
    lines += [f"    {c / total * 100:5.1f}%  {label}" for label, c in kinds.most_common()]
    return "\n".join(lines)


def crosstab(path: Path) -> str:
    """Phase x kind, in % of busy samples (for the write-up)."""
    stacks = _busy(path)
    total = sum(c for _, c in stacks) or 1
    cells: Counter[tuple[str, str]] = Counter()
    for frames, count in stacks:
        cells[(_phase(frames), _kind(frames))] += count
    return "\n".join(f"  {c / total * 100:5.1f}%  {p}  /  {k}" for (p, k), c in cells.most_common(30))


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print(summarise(Path(name)))
        print(crosstab(Path(name)))
