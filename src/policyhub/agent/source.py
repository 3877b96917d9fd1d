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

    The snapshot built from the applied bundle (at its revision) is kept and handed out; a new one is built
    through the engine's compile path (its cache keyed by policy revision). The agent builds a new
    bundle's snapshot ahead of swapping it in (:meth:`prebuild`, with the compile path the engine last
    passed), so decisions go on with the old snapshot meanwhile and never wait for a compile.
    """

    def __init__(self) -> None:
        self._applied: Applied | None = None
        self._built: tuple[OrgSnapshot, Applied] | None = None  # the newest snapshot and what made it
        self._compile: Compile | None = None

    @property
    def applied(self) -> Applied | None:
        return self._applied

    def apply(self, applied: Applied) -> None:
        self._applied = applied

    def snapshot(self, org_id: str, held: OrgSnapshot | None, compile_policy: Compile) -> OrgSnapshot:
        self._compile = compile_policy
        applied = self._applied
        if applied is None:
            raise NoState("the agent has no verified bundle yet; it does not decide on nothing")
        built = self._built
        if built is not None and built[1] is applied:
            return built[0]
        return self._build(org_id, applied, compile_policy)

    def prebuild(self, org_id: str, applied: Applied) -> bool:
        """Build ``applied``'s snapshot now, before it is applied; False when the engine has not asked for a
        snapshot yet (the first one is built by the engine itself)."""
        if self._compile is None:
            return False
        self._build(org_id, applied, self._compile)
        return True

    def _build(self, org_id: str, applied: Applied, compile_policy: Compile) -> OrgSnapshot:
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
        self._built = (snapshot, applied)
        return snapshot
