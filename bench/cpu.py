"""CPU accounting from /proc: a process tree's CPU time and the whole machine's busy time (Linux)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may contain spaces; everything after the last ')' is fixed
    return raw[raw.rfind(")") + 2:].split()


def tree_pids(root: int) -> list[int]:
    """``root`` and all its descendants (a snapshot)."""
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return [root]
    for name in entries:
        if not name.isdigit():
            continue
        fields = _stat_fields(int(name))
        if fields:
            children.setdefault(int(fields[1]), []).append(int(name))
    found, stack = [], [root]
    while stack and len(found) < 10_000:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, []))
    return found


def tree_cpu_s(root: int) -> float:
    """User + system CPU seconds used so far by ``root`` and its live descendants."""
    total = 0
    for pid in tree_pids(root):
        fields = _stat_fields(pid)
        if fields:  # utime, stime are fields 14 and 15 (index 11, 12 after the name)
            total += int(fields[11]) + int(fields[12])
    return total / _TICK


def machine_busy_s() -> float:
    """CPU seconds the whole machine spent not idle (summed over cores)."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except OSError:
        return 0.0
    values = [int(v) for v in first[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    busy = sum(values[:8]) - idle  # guest time is already inside user
    return busy / _TICK


@dataclass(frozen=True)
class CpuSnapshot:
    server_s: float
    client_s: float
    machine_s: float


@dataclass(frozen=True)
class CpuUse:
    """Per cent of one core over a window (200 = both cores of a 2-core machine)."""

    server: float
    client: float
    other: float

    @staticmethod
    def between(a: CpuSnapshot, b: CpuSnapshot, wall_s: float) -> CpuUse:
        if wall_s <= 0:
            return CpuUse(0.0, 0.0, 0.0)
        server = (b.server_s - a.server_s) / wall_s * 100
        client = (b.client_s - a.client_s) / wall_s * 100
        machine = (b.machine_s - a.machine_s) / wall_s * 100
        return CpuUse(server, client, max(0.0, machine - server - client))
