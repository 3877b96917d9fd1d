"""Retry delays for the agent's loops."""

from __future__ import annotations

import random


class Backoff:
    """Full-jitter exponential backoff: a random delay up to ``base * 2**n`` capped at ``cap``, and at
    least ``floor`` so that no failure loop spins."""

    def __init__(self, base: float = 0.2, cap: float = 10.0, floor: float = 0.05) -> None:
        self.base, self.cap, self.floor = base, cap, floor
        self.failures = 0

    def next(self) -> float:
        self.failures += 1
        return max(self.floor, random.uniform(0, min(self.cap, self.base * 2 ** min(self.failures, 20))))

    def reset(self) -> None:
        self.failures = 0
