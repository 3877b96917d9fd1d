"""The agent's snapshot source: the org's state as its last verified bundle says, with no database."""

from __future__ import annotations

from dataclasses import dataclass

from policyhub.domain.bundles import Bundle
from policyhub.engine.snapshot import Compile, build_snapshot
from policyhub.errors import Unavailable
from policyhub.evaluation.snapshot import OrgSnapshot


class NoState(Unavailable):
    """The agent has no verified bundle yet: it answers 503, never a decision made on nothing."""


@dataclass(frozen=True)
class Applied:
    """A verified bundle and the revision it is known current at (a 304 moves the revision on)."""

    bundle: Bundle
    revision: int


class BundleSource:
    """:class:`policyhub.engine.source.SnapshotSource` over the applied bundle.

    The engine's snapshot is kept while it was built from the applied bundle at the applied revision;
    otherwise a new one is built through the engine's compile path (its cache keyed by policy revision,
    so a revision that only moved recompiles nothing).
    """

    def __init__(self) -> None:
        self._applied: Applied | None = None
        self._built: tuple[OrgSnapshot, Applied] | None = None  # the newest snapshot and what made it

    @property
    def applied(self) -> Applied | None:
        return self._applied

    def apply(self, applied: Applied) -> None:
        self._applied = applied

    def snapshot(self, org_id: str, held: OrgSnapshot | None, compile_policy: Compile) -> OrgSnapshot:
        applied = self._applied
        if applied is None:
            raise NoState("the agent has no verified bundle yet; it does not decide on nothing")
        built = self._built
        if held is not None and built is not None and built[0] is held and built[1] is applied:
            return held
        bundle = applied.bundle
        snapshot = build_snapshot(
            org_id,
            applied.revision,
            scopes=bundle.scopes,
            resources=bundle.resources,
            policies=bundle.policies,
            references={},  # the agent's engine drops its compiled cache when the resources change
            compile_policy=compile_policy,
        )
        self._built = (snapshot, applied)  # the engine calls this for one org at a time, under its lock
        return snapshot
