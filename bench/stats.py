"""Result of one measured load window, shared by both load generators and the raw floors."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from bench.cpu import CpuUse


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (0 when empty)."""
    if not sorted_values:
        return 0.0
    rank = max(0, min(len(sorted_values) - 1, math.ceil(q / 100 * len(sorted_values)) - 1))
    return sorted_values[rank]


@dataclass
class Result:
    """Figures of one scenario: ``ok`` counts 2xx responses (or committed transactions)."""

    name: str
    seconds: float
    ok: int = 0
    errors: int = 0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    statuses: Counter[str] = field(default_factory=Counter)
    cpu: CpuUse | None = None
    note: str = ""
    first_error: str = ""

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds > 0 else 0.0

    def set_latencies(self, latencies_s: list[float]) -> None:
        values = sorted(latencies_s)
        self.p50_ms = percentile(values, 50) * 1000
        self.p99_ms = percentile(values, 99) * 1000
        self.max_ms = (values[-1] if values else 0.0) * 1000
