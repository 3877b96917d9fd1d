"""The ``deploymentResult`` of a write with ``deploy: true``.

PolicyHub has no gateway pods: a deployment to an environment means the environment exists and the
proxy's committed policy configuration is read back within the write's transaction. Each detail
names the placeholder pod ``policyhub`` at ``127.0.0.1``; ``responseTime`` is that step's measured
duration in milliseconds. An unknown environment is a 400 before anything is written.
"""

from __future__ import annotations

import time
from typing import Any

from policyhub.domain.records import Actor, Scope
from policyhub.errors import NotFound
from policyhub.http.compat.apinizer import errors, proxies
from policyhub.http.compat.apinizer.schemas import OperationMetadata
from policyhub.http.compat.apinizer.translate import ENVIRONMENT_KIND
from policyhub.http.deps import Container
from policyhub.storage.repositories.resources import Resource
from policyhub.storage.unit_of_work import UnitOfWork

POD_NAME = "policyhub"
POD_IP = "127.0.0.1"


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


def _ms(since: float) -> int:
    return round((time.perf_counter() - since) * 1000)


def deploy(c: Container, uow: UnitOfWork, actor: Actor, proxy: Scope, envs: list[Resource]) -> dict[str, Any]:
    """One successful detail per environment, with measured response times."""
    started = time.perf_counter()
    details = []
    for env in envs:
        step = time.perf_counter()
        proxies.live_policies(c, uow, actor, proxy)
        details.append(
            {"envName": env.key, "podName": POD_NAME, "podIp": POD_IP, "success": True, "responseTime": _ms(step)}
        )
    return {"success": all(d["success"] for d in details), "responseTime": _ms(started), "detailList": details}


def status(
    c: Container, uow: UnitOfWork, actor: Actor, meta: OperationMetadata, proxy: Scope, envs: list[Resource]
) -> dict[str, Any]:
    """The response of a write: ``{"status": "SUCCESS"}`` plus ``deploymentResult`` when deploying."""
    if not meta.deploy:
        return {"status": "SUCCESS"}
    return {"status": "SUCCESS", "deploymentResult": deploy(c, uow, actor, proxy, envs)}
