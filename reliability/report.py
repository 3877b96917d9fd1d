"""What a scenario reports (a row of the table) and how the table is printed."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    SKIP = "SKIP"  # a prerequisite is missing on this machine (never accepted in CI)
    NA = "N/A"  # the scenario does not apply to this backend (the reason is in the figures)


@dataclass
class Result:
    scenario: str  # "1", "3a", ...
    title: str
    backend: str
    figures: str
    status: Status
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0


class Checks:
    """Collects a scenario's failed expectations; the row passes when there are none."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def expect(self, ok: bool, problem: str) -> bool:
        if not ok:
            self.problems.append(problem)
        return ok

    def result(self, scenario: str, title: str, backend: str, figures: str) -> Result:
        status = Status.FAIL if self.problems else Status.PASS
        return Result(scenario, title, backend, figures, status, list(self.problems))


def table(results: list[Result], figures_width: int = 150) -> str:
    """A plain-text table: scenario, backend, figures (wrapped), status, seconds."""
    head = f"{'#':<3} {'scenario':<28} {'backend':<9} {'status':<6} {'secs':>6}  figures"
    lines = [head, "-" * min(len(head) + figures_width, 220)]
    for r in results:
        chunks = _wrap(r.figures, figures_width) or [""]
        lines.append(
            f"{r.scenario:<3} {r.title[:28]:<28} {r.backend:<9} {r.status.value:<6} {r.seconds:>6.1f}  {chunks[0]}"
        )
        lines += [f"{'':<3} {'':<28} {'':<9} {'':<6} {'':>6}  {c}" for c in chunks[1:]]
    return "\n".join(lines)


def _wrap(text: str, width: int) -> list[str]:
    out: list[str] = []
    for part in text.split("; "):
        if out and len(out[-1]) + 2 + len(part) <= width:
            out[-1] += "; " + part
        else:
            out.append(part)
    return out


def timed(fn: Callable[..., Result], *args: Any) -> Result:
    """Run one row's work and record its wall time on the row."""
    start = time.monotonic()
    result = fn(*args)
    result.seconds = time.monotonic() - start
    return result
