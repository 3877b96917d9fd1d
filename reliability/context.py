"""The run's settings as every scenario sees them: form (ci or long), backend, work dir, CI strictness."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from reliability.databases import Backend

T = TypeVar("T")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@dataclass
class Context:
    form: str  # "ci" or "long"
    backend: Backend
    workdir: Path
    in_ci: bool = IN_CI
    seed: int = 0

    @property
    def is_postgres(self) -> bool:
        return self.backend.name == "postgres"

    def pick(self, ci: T, long: T) -> T:
        """The CI form's value or the long form's."""
        return ci if self.form == "ci" else long

    def log_path(self, label: str) -> Path:
        return self.workdir / f"{self.backend.name}-{label}-{time.monotonic_ns() % 10**9}.log"
