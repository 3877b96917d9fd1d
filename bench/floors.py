"""The raw durable-write floor: what the database alone does for a write like the server's.

One transaction = 1 UPDATE of a ~1 KB row + 2 INSERTs of ~1 KB rows, committed (the server's PATCH
writes the policy row, a version row and an audit event, plus smaller statements). SQLite runs in
WAL with ``synchronous=FULL`` (as the server configures it); PostgreSQL with its own settings.
Every loop stops at its deadline or after ``MAX_TXNS`` transactions.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from bench.cpu import CpuSnapshot, CpuUse, machine_busy_s
from bench.stats import Result

MAX_TXNS = 5_000_000
ROWS = 64
PAYLOAD = "x" * 1000


def _payload(n: int) -> str:
    return f'{{"counter":{n},"pad":"{PAYLOAD}"}}'


def _cpu(process_s: float) -> CpuSnapshot:
    return CpuSnapshot(0.0, process_s, machine_busy_s())


def sqlite_floor(path: Path, seconds: float, warmup_s: float = 1.0) -> Result:
    """One connection, one transaction after another."""
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("CREATE TABLE IF NOT EXISTS floor_rows "
                     "(id INTEGER PRIMARY KEY, counter INTEGER, body TEXT)")
        conn.execute("CREATE TABLE IF NOT EXISTS floor_log (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                     "row_id INTEGER, counter INTEGER, body TEXT)")
        conn.executemany("INSERT OR REPLACE INTO floor_rows VALUES (?, 0, ?)",
                         [(i, _payload(0)) for i in range(ROWS)])

        def txn(n: int) -> None:
            body = _payload(n)
            row = n % ROWS
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("UPDATE floor_rows SET counter = ?, body = ? WHERE id = ?", (n, body, row))
            conn.execute("INSERT INTO floor_log (row_id, counter, body) VALUES (?, ?, ?)", (row, n, body))
            conn.execute("INSERT INTO floor_log (row_id, counter, body) VALUES (?, ?, ?)", (row, n, body))
            conn.execute("COMMIT")

        return _loop("sqlite3 raw floor, 1 conn", txn, seconds, warmup_s)
    finally:
        conn.close()


def _loop(name: str, txn: object, seconds: float, warmup_s: float) -> Result:
    assert callable(txn)
    n = 0
    deadline = time.perf_counter() + warmup_s
    while time.perf_counter() < deadline and n < MAX_TXNS:
        n += 1
        txn(n)
    latencies: list[float] = []
    before = _cpu(time.process_time())
    start = time.perf_counter()
    deadline = start + seconds
    now = start
    while now < deadline and n < MAX_TXNS:
        n += 1
        txn(n)
        end = time.perf_counter()
        latencies.append(end - now)
        now = end
    wall = now - start
    result = Result(name, wall, ok=len(latencies))
    result.set_latencies(latencies)
    result.cpu = CpuUse.between(before, _cpu(time.process_time()), wall)
    return result


_PG_SETUP = (
    "CREATE TABLE IF NOT EXISTS floor_rows (id integer PRIMARY KEY, counter bigint, body text)",
    "CREATE TABLE IF NOT EXISTS floor_log "
    "(id bigserial PRIMARY KEY, row_id integer, counter bigint, body text)",
)


def _pg_prepare(dsn: str, rows: int) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        for sql in _PG_SETUP:
            conn.execute(sql)  # type: ignore[arg-type]
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO floor_rows VALUES (%s, 0, %s) ON CONFLICT (id) DO NOTHING",
                            [(i, _payload(0)) for i in range(rows)])


def _pg_txn(conn: object, row: int, n: int) -> None:
    body = _payload(n)
    with conn.transaction():  # type: ignore[attr-defined]
        conn.execute("UPDATE floor_rows SET counter = %s, body = %s WHERE id = %s", (n, body, row))  # type: ignore[attr-defined]
        conn.execute("INSERT INTO floor_log (row_id, counter, body) VALUES (%s, %s, %s)", (row, n, body))  # type: ignore[attr-defined]
        conn.execute("INSERT INTO floor_log (row_id, counter, body) VALUES (%s, %s, %s)", (row, n, body))  # type: ignore[attr-defined]


def postgres_floor(dsn: str, seconds: float, warmup_s: float = 1.0) -> Result:
    """One connection, one transaction after another."""
    import psycopg

    _pg_prepare(dsn, ROWS)
    with psycopg.connect(dsn, autocommit=True) as conn:
        return _loop("psycopg raw floor, 1 conn", lambda n: _pg_txn(conn, n % ROWS, n), seconds, warmup_s)


def postgres_floor_threads(dsn: str, seconds: float, threads: int = 64, warmup_s: float = 1.0) -> Result:
    """``threads`` connections, each updating its own row (no row contention); commits group up."""
    import psycopg

    _pg_prepare(dsn, max(ROWS, threads))
    conns = [psycopg.connect(dsn, autocommit=True) for _ in range(threads)]
    try:
        t0 = time.perf_counter() + warmup_s
        t1 = t0 + seconds
        latencies: list[list[float]] = [[] for _ in range(threads)]
        errors: list[str] = []

        def worker(i: int) -> None:
            conn, mine, n = conns[i], latencies[i], i * MAX_TXNS
            for _ in range(MAX_TXNS // threads):
                start = time.perf_counter()
                if start >= t1:
                    return
                n += 1
                try:
                    _pg_txn(conn, i, n)
                except Exception as exc:
                    errors.append(repr(exc))
                    return
                end = time.perf_counter()
                if start >= t0 and end <= t1:
                    mine.append(end - start)

        pool = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(threads)]
        for t in pool:
            t.start()
        time.sleep(max(0.0, t0 - time.perf_counter()))
        before = _cpu(time.process_time())
        time.sleep(max(0.0, t1 - time.perf_counter()))
        after = _cpu(time.process_time())
        for t in pool:
            t.join(timeout=30)
    finally:
        for c in conns:
            c.close()
    flat = [x for per in latencies for x in per]
    result = Result(f"psycopg raw floor, {threads} threads", seconds, ok=len(flat), errors=len(errors),
                    first_error=errors[0] if errors else "")
    result.set_latencies(flat)
    result.cpu = CpuUse.between(before, after, seconds)
    return result
