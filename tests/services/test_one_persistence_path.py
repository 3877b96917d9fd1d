"""Every policy command stores its change the same way: one ``PolicyChangeRepository.write`` (one statement
on PostgreSQL) holding the row, the version if any, the events and the org's chain head; no command writes
its row or its events on a path of its own. The audit chain stays whole across all of them."""

from __future__ import annotations

from typing import Any

import pytest

from policyhub.app import Container
from policyhub.services import audit
from policyhub.services.commands import (
    ArchivePolicy,
    Command,
    CreatePolicy,
    JsonPatchPolicy,
    MergePatchPolicy,
    ReplacePolicy,
    RollbackPolicy,
    UnarchivePolicy,
)
from policyhub.storage.repositories.changes import PolicyChangeRepository
from tests.services.test_prepared_writes import c as c
from tests.services.test_prepared_writes import caller, url  # noqa: F401 (fixture)

COMMANDS: list[tuple[str, Command]] = [
    ("create", CreatePolicy({"name": "p", "spec": {"a": 0}}, "document")),
    ("merge patch", MergePatchPolicy("p", {"spec": {"a": 1}})),
    ("json patch", JsonPatchPolicy("p", [{"op": "replace", "path": "/spec/a", "value": 2}])),
    ("replace", ReplacePolicy("p", {"spec": {"a": 3}})),
    ("rollback", RollbackPolicy("p", 1)),
    ("archive", ArchivePolicy("p")),
    ("unarchive", UnarchivePolicy("p")),
]


def test_every_command_writes_through_the_change_statement(c: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    actor, org = caller(c)
    calls: list[int] = []
    original = PolicyChangeRepository.write

    def counted(self: PolicyChangeRepository, updated: Any, expected: Any, version: Any, events: Any) -> bool:
        calls.append(len(events))
        return original(self, updated, expected, version, events)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a policy command recorded its event on a path of its own")

    monkeypatch.setattr(PolicyChangeRepository, "write", counted)
    monkeypatch.setattr(audit, "record", refuse)
    for name, command in COMMANDS:
        calls.clear()
        result = c.commands.execute_sync(actor, org, command)
        assert result.changed, name
        assert calls == [len(result.events)], f"{name}: one change with its events, not {calls}"
    with c.db.read() as uow:
        assert audit.verify_org(uow, org.id).ok
        assert len(uow.events.for_object(org.id, result.policy.id)) == 7
