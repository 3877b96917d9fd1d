"""Where the decision engine gets an org's snapshot: a pluggable :class:`SnapshotSource`.

The engine decides what is fresh enough (its ``refresh_s`` bound, its own commits); the source decides
how a current snapshot is made. The hub's source is the database (:class:`DatabaseSource`: one
revision read when nothing changed, the change feed's delta applied to the held snapshot when little
changed, a full read otherwise). An agent next to an enforcement point supplies its own source, built
from its verified bundle, and runs the engine with no database at all.

Writing a source:

- ``snapshot(org_id, held, compile_policy)`` returns the org's current :class:`OrgSnapshot`. ``held`` is
  the snapshot the engine holds for the org (None the first time). Return ``held`` itself when nothing
  changed (that is the cheap path every freshness check takes), else a NEW snapshot: never mutate
  ``held`` or anything reachable from it, decisions running on other threads read it.
- Build snapshots with :func:`policyhub.engine.snapshot.build_snapshot` (from records: scopes,
  resources, live enabled policies and their references) or, for a delta,
  :meth:`OrgSnapshot.evolve`; compile every policy through ``compile_policy`` (the engine's
  ``_compile`` and its cache keyed by revision), so a policy compiles exactly as on the hub.
- It is called off the event loop, at most once at a time per org (the engine holds the org's lock),
  and may block (read a database, a file). Raise :class:`policyhub.errors.NotFound` for an unknown org.
- ``snapshot.seq`` is the revision decisions report (``snapshot_seq``): the org's chain sequence for the
  database, the bundle's ``revision`` (plus applied deltas) for an agent.
"""

from __future__ import annotations

from typing import Protocol

from policyhub.engine.delta import apply_delta
from policyhub.engine.snapshot import Compile, load_snapshot
from policyhub.evaluation.snapshot import OrgSnapshot
from policyhub.storage.db import Database
from policyhub.storage.repositories.feed import ChangeFeedRepository


class SnapshotSource(Protocol):
    """Makes an org's current snapshot for the engine (see the module docstring for the rules)."""

    def snapshot(self, org_id: str, held: OrgSnapshot | None, compile_policy: Compile) -> OrgSnapshot: ...


class DatabaseSource:
    """The hub's source: the org's state in the database, stamped with its audit chain sequence.

    Nothing changed (the chain head is the held snapshot's seq): ``held`` itself, after one indexed
    single-row read. Otherwise the delta since ``held.seq`` is applied (``engine.delta``) when it can
    be, else the org is read in full (``engine.snapshot.load_snapshot``).
    """

    def __init__(self, db: Database, *, max_delta: int = 500) -> None:
        self.db = db
        #: A delta of more events than this is read as a full load (one pass over the org is then cheaper
        #: than re-reading each changed object).
        self.max_delta = max_delta

    def snapshot(self, org_id: str, held: OrgSnapshot | None, compile_policy: Compile) -> OrgSnapshot:
        with self.db.read() as uow:
            if held is not None:
                found = ChangeFeedRepository(uow.conn).since(org_id, held.seq, self.max_delta + 1)
                if found is not None:
                    head, touched = found
                    if head == held.seq:
                        return held
                    evolved = apply_delta(uow, held, head, touched, compile_policy, max_events=self.max_delta)
                    if evolved is not None:
                        return evolved
            return load_snapshot(uow, org_id, compile_policy)
