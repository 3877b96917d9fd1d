"""Incremental snapshots: the held snapshot plus the org's changes since its seq."""

from __future__ import annotations

from policyhub.engine.snapshot import Compile
from policyhub.evaluation.snapshot import OrgSnapshot
from policyhub.storage.unit_of_work import UnitOfWork


def apply_delta(
    uow: UnitOfWork, held: OrgSnapshot, seq: int, compile_policy: Compile, *, max_events: int
) -> OrgSnapshot | None:
    """The snapshot at ``seq`` made from ``held`` and the changes after it; None: read the org in full."""
    return None
