"""The decision spool and the state directory's atomic files (no processes)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from policyhub.agent.spool import DecisionSpool, batches, read_segment
from policyhub.agent.state import StateDir


def test_a_line_cut_by_a_crash_is_dropped_and_what_was_answered_is_kept(tmp_path: Path) -> None:
    spool = DecisionSpool(tmp_path)
    for i in range(3):
        spool.append({"id": f"d{i}"})
    spool.close()
    [segment] = list(tmp_path.glob("*.log"))
    with open(segment, "ab") as f:
        f.write(b'{"id": "torn')  # a write the process died in: its answer was never sent
    again = DecisionSpool(tmp_path)
    assert again.pending == 3
    again.append({"id": "d3"})
    sealed = again.seal()
    assert [orjson.loads(line)["id"] for s in sealed for line in read_segment(s)] == ["d0", "d1", "d2", "d3"]


def test_sealed_segments_are_removed_only_when_acknowledged(tmp_path: Path) -> None:
    spool = DecisionSpool(tmp_path)
    spool.append({"id": "a"})
    first = spool.seal()
    spool.append({"id": "b"})  # goes to the new active segment, not the sealed one
    assert [read_segment(s) for s in first] == [[b'{"id":"a"}']]
    spool.remove(first[0], 1)
    assert spool.pending == 1
    second = spool.seal()
    assert [read_segment(s) for s in second] == [[b'{"id":"b"}']]
    assert spool.seal() == second  # nothing new: the same unacknowledged segment again


def test_batches_keep_order_within_their_bounds() -> None:
    lines = [b"x" * 10 for _ in range(7)]
    assert [len(b) for b in batches(lines, max_items=3, max_bytes=1000)] == [3, 3, 1]
    assert [len(b) for b in batches(lines, max_items=100, max_bytes=25)] == [2, 2, 2, 1]


def test_state_files_are_replaced_whole_and_stale_temporaries_removed(tmp_path: Path) -> None:
    (tmp_path / ".bundle.json.123.tmp").write_bytes(b"half")
    state = StateDir(tmp_path)
    assert not list(tmp_path.glob(".*.tmp"))
    state.write_json("bundle.json", {"revision": 1})
    state.write_json("bundle.json", {"revision": 2})
    assert state.read_json("bundle.json") == {"revision": 2}
    assert state.read_json("keys.json") is None
    (tmp_path / "keys.json").write_bytes(b"{not json")
    with pytest.raises(ValueError):
        state.read_json("keys.json")


def test_a_full_spool_drops_and_counts_instead_of_filling_the_disk(tmp_path: Path) -> None:
    spool = DecisionSpool(tmp_path, max_bytes=100)
    for i in range(10):
        spool.append({"id": f"decision-{i:04d}"})  # 23 bytes a line: four fit
    assert (spool.pending, spool.dropped) == (4, 6)
    [segment] = spool.seal()
    spool.remove(segment, 4)
    spool.append({"id": "after"})  # room again once shipped
    assert (spool.pending, spool.dropped, spool.bytes) == (1, 6, 15)
    assert DecisionSpool(tmp_path / "x").bytes == 0
