"""Printing: the figures table, the ratios against the baselines and the targets."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bench.stats import Result

SQLITE_PATCH_TARGET = 0.50  # PATCH on SQLite >= 50% of the raw SQLite floor
P99_TARGET_MS = 25.0  # p99 < 25 ms at 64 connections

HEADER = (f"{'backend':<9} {'scenario':<38} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
          f"{'errors':>7} {'srv%':>5} {'cli%':>5} {'oth%':>5} {'srv us/req':>10}")


def row(backend: str, r: Result) -> str:
    cpu = r.cpu
    srv = f"{cpu.server:5.0f}" if cpu and cpu.server else "    -"
    cli = f"{cpu.client:5.0f}" if cpu else "    -"
    oth = f"{cpu.other:5.0f}" if cpu else "    -"
    per_req = f"{cpu.server * 10_000 / r.rate:10.0f}" if cpu and cpu.server and r.rate else "         -"
    line = (f"{backend:<9} {r.name:<38} {r.rate:8.0f} {r.p50_ms:8.2f} {r.p99_ms:8.2f} {r.max_ms:8.1f} "
            f"{r.errors:7d} {srv} {cli} {oth} {per_req}")
    if r.errors:
        kinds = ", ".join(f"{k} x{v}" for k, v in r.statuses.most_common(4))
        line += f"\n{'':<10}errors: {kinds}; first: {r.first_error[:200]}"
    return line


def table(rows: Iterable[tuple[str, Result]]) -> str:
    lines = [HEADER, "-" * len(HEADER)]
    lines += [row(backend, r) for backend, r in rows]
    return "\n".join(lines)


@dataclass
class BackendFigures:
    """What the ratios of one backend are computed from (None where a figure was not measured)."""

    backend: str
    connections: int
    trivial: Result | None = None
    floor: Result | None = None
    floor_threads: Result | None = None
    patch: Result | None = None
    put: Result | None = None
    patch_hot: Result | None = None


def _ratio(a: Result | None, b: Result | None) -> float | None:
    if a is None or b is None or b.rate == 0:
        return None
    return a.rate / b.rate


def _pct(value: float | None) -> str:
    return "   n/a" if value is None else f"{value * 100:5.1f}%"


def ratios(f: BackendFigures) -> str:
    lines = [f"[{f.backend}]"]
    pairs = [
        ("PATCH / raw floor (1 conn)", _ratio(f.patch, f.floor)),
        ("PUT   / raw floor (1 conn)", _ratio(f.put, f.floor)),
        ("PATCH / trivial endpoint (GET /healthz)", _ratio(f.patch, f.trivial)),
    ]
    if f.floor_threads is not None:
        pairs.append((f"PATCH / raw floor ({f.floor_threads.name.split(', ')[-1]})",
                      _ratio(f.patch, f.floor_threads)))
    if f.patch_hot is not None:
        pairs.append(("PATCH one hot policy / PATCH spread", _ratio(f.patch_hot, f.patch)))
    for label, value in pairs:
        target = ""
        if f.backend == "sqlite" and label.startswith("PATCH / raw floor") and value is not None:
            ok = value >= SQLITE_PATCH_TARGET
            target = f"   target >= {SQLITE_PATCH_TARGET:.0%}: {'MET' if ok else 'MISSED'}"
        lines.append(f"  {label:<42} {_pct(value)}{target}")
    for label, r in (("PATCH", f.patch), ("PUT", f.put), ("PATCH hot", f.patch_hot)):
        if r is not None:
            ok = r.p99_ms < P99_TARGET_MS and r.ok > 0
            lines.append(f"  {label + ' p99 at ' + str(f.connections) + ' connections':<42} "
                         f"{r.p99_ms:6.1f} ms   target < {P99_TARGET_MS:.0f} ms: {'MET' if ok else 'MISSED'}")
    if f.patch is not None:
        # closed loop: every connection always has one request outstanding, so by Little's law the
        # mean latency is connections / throughput - the p99 target is a throughput target in disguise
        need = f.connections / (P99_TARGET_MS / 1000)
        lines.append(f"  (Little's law: {f.connections} connections / {f.patch.rate:.0f} PATCH/s = "
                     f"{f.connections / max(f.patch.rate, 1e-9) * 1000:.0f} ms mean latency; p99 < "
                     f"{P99_TARGET_MS:.0f} ms needs > {need:.0f} req/s)")
    return "\n".join(lines)
