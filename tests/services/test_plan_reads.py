"""The planned-write safety rule, enforced: a plan made outside the lock may read its own policy and
nothing else that its compare-and-set will not re-check. A check that reads other rows directly (not
through the validation context) makes the runner refuse the plan, so that the write is decided under the
lock and cannot commit on a stale read."""

from __future__ import annotations

from typing import Any

import pytest

from policyhub.app import Container
from policyhub.domain.records import Actor, Org, Policy
from policyhub.errors import Conflict
from policyhub.services.commands import CommandRunner, MergePatchPolicy
from policyhub.services.policies import PolicyService
from policyhub.storage.repositories.policies import PolicyFilter
from policyhub.storage.unit_of_work import UnitOfWork
from tests.services.test_prepared_writes import NONE, c, caller, create, url  # noqa: F401 (fixtures)

GATE = "gate"


class GatedService(PolicyService):
    """A service with a new check, written the unsafe way: it reads a gate resource straight from the
    unit of work instead of through the validation context."""

    gate_id = ""

    def _change(self, uow: UnitOfWork, actor: Actor, org: Org, current: Policy, *args: Any, **kwargs: Any) -> Any:
        if uow.resources.get(org.id, GATE, self.gate_id) is None:
            raise Conflict("the gate is closed")
        return super()._change(uow, actor, org, current, *args, **kwargs)


class CountingService(PolicyService):
    """A service with a new check that lists the org's other policies directly."""

    def _change(self, uow: UnitOfWork, actor: Actor, org: Org, current: Policy, *args: Any, **kwargs: Any) -> Any:
        if len(uow.policies.list(org.id, PolicyFilter(), 100)) > 50:
            raise Conflict("too many policies")
        return super()._change(uow, actor, org, current, *args, **kwargs)


def _gated(c: Container) -> tuple[GatedService, CommandRunner, Actor, Org]:  # noqa: F811
    actor, org = caller(c)
    service = GatedService(c.registry)
    gate = c.db.transact(lambda uow: c.resources.create(uow, actor, GATE, "main", {}))
    service.gate_id = gate.id
    return service, CommandRunner(c.db, service), actor, org


def test_a_plain_patch_is_still_planned(c: Container) -> None:  # noqa: F811
    create(c, "p", {"a": 0})
    actor, org = caller(c)
    preparation = c.commands.preparation(actor, org, MergePatchPolicy("p", {"spec": {"a": 1}}), NONE, None)
    with c.db.read() as uow:
        assert preparation.plan(uow) is not None


def test_a_plan_that_reads_other_rows_directly_is_refused(c: Container) -> None:  # noqa: F811
    create(c, "p", {"a": 0})
    service, runner, actor, org = _gated(c)
    command = MergePatchPolicy("p", {"spec": {"a": 1}})
    with c.db.read() as uow:
        assert runner.preparation(actor, org, command, NONE, None).plan(uow) is None
        # Without the rule, the same plan is accepted (what the runner would have done before):
        unsafe = service.prepare_merge_patch(uow, actor, org, "p", {"spec": {"a": 1}}, NONE)
    assert unsafe is not None
    # ... and if the gate closes between the plan and the write, the unsafe plan commits anyway.
    c.db.transact(lambda uow: c.resources.delete(uow, actor, GATE, service.gate_id))
    stale = c.db.transact(unsafe)
    assert stale.policy.spec == {"a": 1}, "the hazard the rule prevents: a write past a closed gate"


def test_through_the_runner_a_closed_gate_is_seen_under_the_lock(c: Container) -> None:  # noqa: F811
    create(c, "p", {"a": 0})
    service, runner, actor, org = _gated(c)
    command = MergePatchPolicy("p", {"spec": {"a": 1}})
    with c.db.read() as uow:
        planned = runner.preparation(actor, org, command, NONE, None).plan(uow)
    c.db.transact(lambda uow: c.resources.delete(uow, actor, GATE, service.gate_id))
    assert planned is None  # nothing planned to commit stale: the write runs from the start, under the lock
    with pytest.raises(Conflict, match="gate is closed"):
        runner.execute_sync(actor, org, command)
    with c.db.read() as uow:
        assert c.policies.get(uow, actor, "p").spec == {"a": 0}


def test_a_plan_that_lists_other_policies_directly_is_refused(c: Container) -> None:  # noqa: F811
    create(c, "p", {"a": 0})
    create(c, "q", {"b": 0})
    actor, org = caller(c)
    runner = CommandRunner(c.db, CountingService(c.registry))
    with c.db.read() as uow:
        assert runner.preparation(actor, org, MergePatchPolicy("p", {"spec": {"a": 1}}), NONE, None).plan(uow) is None
    assert runner.execute_sync(actor, org, MergePatchPolicy("p", {"spec": {"a": 1}})).policy.version == 2
