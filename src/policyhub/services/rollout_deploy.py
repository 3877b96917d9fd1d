"""Waiting for a committed write to reach the agents of its target environments (a "deployment").

After a write commits at sequence number ``seq``, :func:`await_applied` watches the agents' reports until
every live agent of each target environment reports a revision at or past ``seq``, or ``timeout_s``
passes. It waits on the event loop: between looks it holds no thread and no database connection (each
look is one short read, ``Database.read_async``), so any number of deployments can wait at once. Reports
may reach any replica: the look reads the database, every ``POLL_S``.

The outcome has one entry per agent that was live during the wait: applied (with the time from the
write's commit to the agent's first report of a revision that includes it) or not in time. An
environment with no live agent at all is one entry with no agent, which did not apply.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from policyhub.domain.canonical import now
from policyhub.storage.db import Database
from policyhub.storage.repositories.rollout import AgentReport

POLL_S = 0.05


@dataclass(frozen=True)
class AgentOutcome:
    environment: str
    agent: str | None  # None: the environment has no live agent
    address: str | None
    applied: bool
    #: Commit to the agent's first report of the revision (applied), or how long it was waited for (not).
    response_ms: int


async def await_applied(
    db: Database,
    org_id: str,
    environments: Sequence[str],
    seq: int,
    committed_at: datetime,
    *,
    timeout_s: float,
    live_s: float,
) -> list[AgentOutcome]:
    """Wait (at most ``timeout_s``) until each environment's live agents report ``seq`` or later."""
    wanted = list(dict.fromkeys(environments))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        reports = await db.read_async(lambda uow: uow.rollout.agents(org_id))
        at = now()
        live = {
            env: [r for r in reports if r.environment == env and at - r.last_seen <= timedelta(seconds=live_s)]
            for env in wanted
        }
        pending = any(r.revision < seq for agents in live.values() for r in agents)
        if not pending or loop.time() >= deadline:
            return [o for env in wanted for o in _outcomes(env, live[env], seq, committed_at, at)]
        await asyncio.sleep(min(POLL_S, max(0.0, deadline - loop.time())))


def _outcomes(
    env: str, agents: list[AgentReport], seq: int, committed_at: datetime, at: datetime
) -> list[AgentOutcome]:
    waited = _ms(at - committed_at)
    if not agents:
        return [AgentOutcome(env, None, None, False, waited)]
    return [
        AgentOutcome(
            env,
            a.name,
            a.address,
            a.revision >= seq,
            _ms(a.revision_at - committed_at) if a.revision >= seq else waited,
        )
        for a in agents
    ]


def _ms(delta: timedelta) -> int:
    return max(0, round(delta.total_seconds() * 1000))
