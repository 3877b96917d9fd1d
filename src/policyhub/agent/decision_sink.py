"""The agent's decision log: the hub's rules for what is kept, written to the local spool instead of a
database, synchronously, before the decision's answer is sent (see :mod:`policyhub.agent.spool`)."""

from __future__ import annotations

import concurrent.futures
from typing import Any, cast

from policyhub.agent.spool import DecisionSpool
from policyhub.domain.canonical import iso, now
from policyhub.evaluation.outcome import DecisionResult
from policyhub.evaluation.points import PointRegistry
from policyhub.services.decision_log import DecisionLog, LogPolicy
from policyhub.storage.db import Database


class SpooledDecisionLog(DecisionLog):
    """:class:`DecisionLog`'s sampling, input redaction and size caps; its records go to the spool.

    The base class's database writer is never started (``record`` and ``flush`` are replaced), so it is
    given no database.
    """

    def __init__(self, spool: DecisionSpool, policy: LogPolicy, *, points: PointRegistry, agent: str) -> None:
        super().__init__(cast(Database, None), policy, points=points)
        self.spool = spool
        self.agent = agent

    def record(
        self,
        org_id: str,
        result: DecisionResult,
        raw_input: Any,
        *,
        source: str,
        principal_id: str | None,
        force: bool = False,
        wait: bool = False,
    ) -> concurrent.futures.Future[None] | None:
        if not self.wanted(result, force=force):
            return None
        # Every record says which agent decided (the batch path does not pass its source down), and the
        # protocol it was asked in when that was not the native decision API (the hub logs both).
        entry = self.entry(org_id, result, raw_input, source=f"agent:{self.agent}", principal_id=None, at=now())
        protocol = None if source == "v1" or source.startswith("agent:") else source
        self.spool.append(
            {
                "id": entry.id,
                "at": iso(entry.at),
                "source": entry.source if protocol is None else f"{entry.source}/{protocol}",
                "protocol": protocol,
                "point": entry.point,
                "scope": entry.scope_path,
                "decision": entry.decision,
                "input_hash": entry.input_hash,
                "input": entry.input,
                "results": entry.results,
                "obligations": entry.obligations,
                "policy_state": entry.policy_state,
                "bundle_revision": entry.policy_state,
                "policies": [
                    {"policy_id": p.policy_id, "type": p.policy_type, "version": p.policy_version, "effect": p.effect}
                    for p in entry.policies
                ],
            }
        )
        if wait:
            done: concurrent.futures.Future[None] = concurrent.futures.Future()
            done.set_result(None)
            return done
        return None

    def flush(self, timeout_s: float = 10.0) -> None:
        """Nothing is queued: every record is in the spool once ``record`` returns."""

    def close(self) -> None:
        self.spool.close()
