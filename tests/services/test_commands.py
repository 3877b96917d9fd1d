"""The runner decides how a write runs, whichever face sends it: every policy write of an org is grouped by
the org (so a dialect's writes are group-committed on PostgreSQL as /v1's are), a guard runs under the org's
lock before its command, and a dry run writes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from policyhub.app import Container
from policyhub.errors import Conflict
from policyhub.services.commands import ArchivePolicy, MergePatchPolicy, WriteOptions
from policyhub.storage.unit_of_work import UnitOfWork
from tests.services.test_prepared_writes import c as c
from tests.services.test_prepared_writes import caller, create, url  # noqa: F401 (fixture)


def test_every_write_is_grouped_by_its_org(c: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    create(c, "p", {"a": 0})
    create(c, "q", {"a": 0})
    actor, org = caller(c)
    keys: list[str | None] = []
    transact = c.db.transact

    def recorded(work: Any, **kwargs: Any) -> Any:
        keys.append(kwargs.get("key"))
        return transact(work, **kwargs)

    monkeypatch.setattr(c.db, "transact", recorded)
    c.commands.execute_sync(actor, org, MergePatchPolicy("p", {"spec": {"a": 1}}))
    guarded = WriteOptions(guard=lambda uow: ArchivePolicy("q"))
    c.commands.execute_sync(actor, org, ArchivePolicy("nothing-by-this-name"), guarded)
    c.commands.in_org_sync(actor, org, lambda w: w.run(MergePatchPolicy("p", {"spec": {"a": 2}})))
    assert keys == [org.id] * 3


def test_a_guard_runs_under_the_lock_and_its_refusal_writes_nothing(c: Container) -> None:
    create(c, "p", {"a": 0})
    actor, org = caller(c)
    seen: list[bool] = []

    def guard(uow: UnitOfWork) -> None:
        seen.append("audit_chains" in uow.cache and org.id in uow.cache["audit_chains"])  # the org is locked
        raise Conflict("the dialect says no")

    with pytest.raises(Conflict, match="the dialect says no"):
        c.commands.execute_sync(actor, org, MergePatchPolicy("p", {"spec": {"a": 1}}), WriteOptions(guard=guard))
    assert seen == [True]
    with c.db.read() as uow:
        assert c.policies.get(uow, actor, "p").revision == 1


def test_a_dry_run_reports_and_writes_nothing(c: Container) -> None:
    create(c, "p", {"a": 0})
    actor, org = caller(c)
    result = c.commands.execute_sync(actor, org, MergePatchPolicy("p", {"spec": {"a": 1}}), WriteOptions(dry_run=True))
    assert result.policy.spec == {"a": 1} and result.new_version
    with c.db.read() as uow:
        assert c.policies.get(uow, actor, "p").spec == {"a": 0}
