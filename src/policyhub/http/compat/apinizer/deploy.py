"""The ``deploymentResult`` of a write with ``deploy: true``: the write reaching the agents that enforce it.

An Apinizer environment named in ``deployTargetEnvironmentNameList`` must exist (an Apinizer environment,
``POST /apiops/environments/``; an unknown one is a 400 before anything is written). It maps to the
rollout environment of the same name (``PUT /v1/orgs/{org}/environments/{name}``), whose agents
(``policyhub agent --environment name``) enforce it. After the write commits at revision S, the response
waits (at most ``POLICYHUB_DEPLOY_WAIT_S``, default 10 s, on the event loop: no thread or database
connection is held while waiting) until every live agent of each target environment reports a revision
at or past S. Then:

- ``detailList`` has one entry per live agent: ``podName`` the agent's name, ``podIp`` the address it
  reports, ``success`` whether it applied S in time, ``responseTime`` the milliseconds from the commit to
  its report of S (or, not in time, how long it was waited for);
- an environment with no live agent is one entry with ``podName`` and ``podIp`` empty, ``success: false``;
- ``deploymentResult.success`` is true when every entry succeeded (so also with no target environment);
  ``responseTime`` is the milliseconds from the commit to the end of the wait;
- ``status`` stays ``SUCCESS``: the write itself committed (and is not undone); only the deployment
  failed, which ``deploymentResult.success: false`` says (HTTP 200).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from policyhub.domain.canonical import now
from policyhub.domain.records import Actor, Scope
from policyhub.errors import NotFound
from policyhub.http.compat.apinizer import errors
from policyhub.http.compat.apinizer.schemas import OperationMetadata
from policyhub.http.compat.apinizer.translate import ENVIRONMENT_KIND
from policyhub.http.deps import Container
from policyhub.services.rollout_deploy import AgentOutcome, await_applied
from policyhub.storage.repositories.resources import Resource
from policyhub.storage.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class PendingDeployment:
    """What a committed write leaves to wait for: its revision, when it was written, and where to."""

    environments: list[str]
    revision: int
    written_at: datetime


def target_environments(c: Container, uow: UnitOfWork, actor: Actor, meta: OperationMetadata) -> list[Resource]:
    """The environments to deploy to (none when ``deploy`` is false); 400 naming the first unknown one."""
    if not meta.deploy:
        return []
    found = []
    for name in dict.fromkeys(meta.deployTargetEnvironmentNameList):
        try:
            found.append(c.resources.by_key(uow, actor, ENVIRONMENT_KIND, name))
        except NotFound:
            raise errors.environment_missing(name) from None
    return found


def status(
    c: Container, uow: UnitOfWork, actor: Actor, meta: OperationMetadata, proxy: Scope, envs: list[Resource]
) -> dict[str, Any]:
    """The response of a write, in its transaction: ``{"status": "SUCCESS"}``, plus the deployment to wait
    for once it has committed (:func:`finish`) when deploying."""
    if not meta.deploy:
        return {"status": "SUCCESS"}
    revision, written_at = c.rollout.written_revision(uow, actor)
    return {"status": "SUCCESS", "deploymentResult": PendingDeployment([e.key for e in envs], revision, written_at)}


async def finish(c: Container, actor: Actor, result: dict[str, Any]) -> dict[str, Any]:
    """The response once the write has committed: a pending deployment waited for and reported."""
    pending = result.get("deploymentResult")
    if not isinstance(pending, PendingDeployment):
        return result
    outcomes = await await_applied(
        c.db,
        actor.org_id,
        pending.environments,
        pending.revision,
        pending.written_at,
        timeout_s=c.settings.deploy_wait_s,
        live_s=c.settings.agent_live_s,
    )
    details = [_detail(o) for o in outcomes]
    total = max(0, round((now() - pending.written_at).total_seconds() * 1000))
    return {
        **result,
        "deploymentResult": {
            "success": all(d["success"] for d in details),
            "responseTime": total,
            "detailList": details,
        },
    }


def _detail(outcome: AgentOutcome) -> dict[str, Any]:
    return {
        "envName": outcome.environment,
        "podName": outcome.agent or "",
        "podIp": outcome.address or "",
        "success": outcome.applied,
        "responseTime": outcome.response_ms,
    }
