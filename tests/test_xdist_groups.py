"""Tests marked ``xdist_group`` run in one worker under the README's command (``-n 2 --dist loadgroup``).

Several modules start real servers once per module and rely on it (a hub killed by one test and started by
the next); pytest-xdist 3.8 silently stopped grouping on pytest 9, which split them across workers.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

MODULE = '''
import os

import pytest

pytestmark = pytest.mark.xdist_group("together")


@pytest.mark.parametrize("n", range(6))
def test_worker(n: int) -> None:
    with open(os.environ["GROUP_LOG"], "a") as log:
        print(os.environ["PYTEST_XDIST_WORKER"], file=log)
'''


def test_a_group_runs_in_one_worker(tmp_path: Path) -> None:
    (tmp_path / "test_grouped.py").write_text(MODULE)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "GROUP_LOG": str(tmp_path / "workers.log")},
    )
    assert run.returncode == 0, run.stdout + run.stderr
    workers = (tmp_path / "workers.log").read_text().split()
    assert len(workers) == 6 and len(set(workers)) == 1, workers
