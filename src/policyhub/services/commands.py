"""Policy writes as typed commands, and the one runner that carries them out.

A face (``/v1``, a vendor dialect, the CLI) says *what* to write with a command and *how* with
:class:`WriteOptions`; :class:`CommandRunner` alone decides the rest: the transaction and its grouping
key (the org, so every face's writes are group-committed the same way), whether the write may be planned
outside the org's lock (and the run from the start, under the lock, when the plan went stale), dry runs
and idempotency. A dialect that checks more than the core does passes a *guard*: it runs under the org's
lock, before the command, and may give the command to run from what it read there.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, TypeVar, overload

from policyhub.domain.records import Actor, Org
from policyhub.services import idempotency
from policyhub.services.planning import PlanningUnitOfWork
from policyhub.services.policies import PolicyService, Preconditions, PreparedWrite, WriteResult
from policyhub.storage.db import Database
from policyhub.storage.repositories.idempotency import StoredResponse
from policyhub.storage.unit_of_work import Preparation, UnitOfWork, Work

T = TypeVar("T")


@dataclass(frozen=True)
class CreatePolicy:
    """A new policy (``body``: the document without ``type``, ``scope`` and ``comment``)."""

    body: dict[str, Any]
    type_name: str
    scope: str | None = None
    comment: str = ""


@dataclass(frozen=True)
class ReplacePolicy:
    """Full replace of the policy ``ref`` (id or name), or create it under that name (upsert)."""

    ref: str
    body: dict[str, Any]


@dataclass(frozen=True)
class MergePatchPolicy:
    """RFC 7396 merge patch of the policy document."""

    ref: str
    patch: Any
    comment: str = ""


@dataclass(frozen=True)
class JsonPatchPolicy:
    """RFC 6902 JSON Patch of the policy document."""

    ref: str
    ops: Any
    comment: str = ""


@dataclass(frozen=True)
class ArchivePolicy:
    ref: str


@dataclass(frozen=True)
class UnarchivePolicy:
    ref: str


@dataclass(frozen=True)
class RollbackPolicy:
    """Version ``version``'s content made current again, as a new version."""

    ref: str
    version: int
    comment: str = ""


Command = (
    CreatePolicy | ReplacePolicy | MergePatchPolicy | JsonPatchPolicy | ArchivePolicy | UnarchivePolicy | RollbackPolicy
)

#: A planned write: the commands that may be planned outside the lock (they change an existing policy).
_PLANNABLE = (ReplacePolicy, MergePatchPolicy, JsonPatchPolicy)

#: A dialect's extra checks, run under the org's lock before the command: returns the command to run
#: (e.g. with a vendor id resolved to the policy's), or None to run the one given.
Guard = Callable[[UnitOfWork], "Command | None"]


@dataclass(frozen=True)
class Idempotency:
    """An ``Idempotency-Key`` and the request's fingerprint (the response must be a ``StoredResponse``)."""

    key: str
    fingerprint: str


@dataclass(frozen=True)
class WriteOptions:
    dry_run: bool = False
    preconditions: Preconditions = field(default_factory=Preconditions)
    idempotency: Idempotency | None = None
    guard: Guard | None = None
    #: How the face words the command's own errors (entered after the guard, around the command only).
    errors: Callable[[], AbstractContextManager[None]] = nullcontext


class OrgWrite:
    """One transaction under an org's write lock, for a face whose operation is several commands (and
    writes of other services) that must commit together: see :meth:`CommandRunner.in_org_sync`."""

    def __init__(self, runner: CommandRunner, uow: UnitOfWork, actor: Actor, org: Org) -> None:
        self.runner, self.uow, self.actor, self.org = runner, uow, actor, org

    def run(self, command: Command, preconditions: Preconditions | None = None) -> WriteResult:
        """``command`` in this transaction."""
        return self.runner.run(self.uow, self.actor, self.org, command, preconditions or Preconditions())


_DEFAULT = WriteOptions()


class CommandRunner:
    """Runs policy commands; one per process (stateless apart from what it was built with)."""

    def __init__(self, db: Database, policies: PolicyService) -> None:
        self.db = db
        self.policies = policies

    @overload
    async def execute(
        self, actor: Actor, org: Org, command: Command, options: WriteOptions = ..., respond: None = None
    ) -> WriteResult: ...

    @overload
    async def execute(
        self,
        actor: Actor,
        org: Org,
        command: Command,
        options: WriteOptions = ...,
        *,
        respond: Callable[[UnitOfWork, WriteResult], T],
    ) -> T: ...

    async def execute(
        self,
        actor: Actor,
        org: Org,
        command: Command,
        options: WriteOptions = _DEFAULT,
        respond: Callable[[UnitOfWork, WriteResult], Any] | None = None,
    ) -> Any:
        """Run ``command`` for ``actor`` in ``org``; ``respond`` turns the result into the answer in the same
        transaction (it may read; with idempotency it returns the ``StoredResponse`` to keep)."""
        work, prepare = self._job(actor, org, command, options, respond)
        return await self.db.transact_async(work, rollback=options.dry_run, key=org.id, prepare=prepare)

    @overload
    def execute_sync(
        self, actor: Actor, org: Org, command: Command, options: WriteOptions = ..., respond: None = None
    ) -> WriteResult: ...

    @overload
    def execute_sync(
        self,
        actor: Actor,
        org: Org,
        command: Command,
        options: WriteOptions = ...,
        *,
        respond: Callable[[UnitOfWork, WriteResult], T],
    ) -> T: ...

    def execute_sync(
        self,
        actor: Actor,
        org: Org,
        command: Command,
        options: WriteOptions = _DEFAULT,
        respond: Callable[[UnitOfWork, WriteResult], Any] | None = None,
    ) -> Any:
        """:meth:`execute` for synchronous callers (the CLI, the dialects' sync routes)."""
        work, prepare = self._job(actor, org, command, options, respond)
        return self.db.transact(work, rollback=options.dry_run, key=org.id, prepare=prepare)

    def in_org_sync(self, actor: Actor, org: Org, work: Callable[[OrgWrite], T]) -> T:
        """``work`` in one write transaction that holds ``org``'s lock from the start, grouped as every
        write of the org is: for operations that are more than one command, or that write other rows of
        the org under the lock its policy writes take (a dialect's rules, templates, environments)."""

        def run(uow: UnitOfWork) -> T:
            self.policies.lock(uow, org)
            return work(OrgWrite(self, uow, actor, org))

        return self.db.transact(run, key=org.id)

    # -- how a command runs --------------------------------------------------------------------------
    def _job(
        self,
        actor: Actor,
        org: Org,
        command: Command,
        options: WriteOptions,
        respond: Callable[[UnitOfWork, WriteResult], Any] | None,
    ) -> tuple[Work, Preparation | None]:
        pre, guard = options.preconditions, options.guard

        def run(uow: UnitOfWork) -> Any:
            todo = command
            if guard is not None:
                self.policies.lock(uow, org)
                todo = guard(uow) or command
            with options.errors():
                result = self.run(uow, actor, org, todo, pre)
            return respond(uow, result) if respond is not None else result

        work: Work = run
        once = options.idempotency
        if once is not None and not options.dry_run:

            def work(uow: UnitOfWork) -> StoredResponse:
                return idempotency.run_once(uow, actor, once.key, once.fingerprint, lambda: run(uow))

        prepare = None
        plain = guard is None and options.errors is nullcontext and (once is None or options.dry_run)
        if isinstance(command, _PLANNABLE) and plain:
            prepare = self.preparation(actor, org, command, pre, respond)
        return work, prepare

    def run(self, uow: UnitOfWork, actor: Actor, org: Org, command: Command, pre: Preconditions) -> WriteResult:
        """``command`` in ``uow`` (under the org's lock, which the service takes): the ordinary path."""
        s = self.policies
        match command:
            case CreatePolicy(body, type_name, scope, comment):
                return s.create(uow, actor, org, body, type_name=type_name, scope=scope, comment=comment)
            case ReplacePolicy(ref, body):
                return s.put(uow, actor, org, ref, body, pre)
            case MergePatchPolicy(ref, patch, comment):
                return s.merge_patch(uow, actor, org, ref, patch, pre, comment)
            case JsonPatchPolicy(ref, ops, comment):
                return s.json_patch(uow, actor, org, ref, ops, pre, comment)
            case ArchivePolicy(ref):
                return s.archive(uow, actor, org, ref, pre)
            case UnarchivePolicy(ref):
                return s.unarchive(uow, actor, org, ref, pre)
            case RollbackPolicy(ref, number, comment):
                return s.rollback(uow, actor, org, ref, number, pre, comment)
        raise TypeError(f"not a policy command: {command!r}")

    def preparation(
        self,
        actor: Actor,
        org: Org,
        command: ReplacePolicy | MergePatchPolicy | JsonPatchPolicy,
        pre: Preconditions,
        respond: Callable[[UnitOfWork, WriteResult], Any] | None,
    ) -> Preparation:
        """How ``command`` is planned on a read, outside the lock (the group-commit writer decides when).

        The plan sees the read through a :class:`PlanningUnitOfWork`: one that read more than its own policy
        is refused, whoever wrote the read (see ``services.planning``).
        """
        s = self.policies

        def plan(uow: UnitOfWork) -> Work | None:
            view = PlanningUnitOfWork(uow)
            planned: PreparedWrite | None
            match command:
                case ReplacePolicy(ref, body):
                    planned = s.prepare_put(view, actor, org, ref, body, pre)
                case MergePatchPolicy(ref, patch, comment):
                    planned = s.prepare_merge_patch(view, actor, org, ref, patch, pre, comment)
                case JsonPatchPolicy(ref, ops, comment):
                    planned = s.prepare_json_patch(view, actor, org, ref, ops, pre, comment)
            if planned is None or not view.trusted():  # it read what its compare-and-set will not re-check
                return None
            if respond is None:
                return planned
            write = planned
            return lambda wuow: respond(wuow, write(wuow))

        target: Hashable = (org.id, command.ref)
        return Preparation(target, plan)
