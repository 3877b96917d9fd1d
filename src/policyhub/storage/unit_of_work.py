"""A unit of work: one connection in one transaction, with every repository bound to it."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from contextlib import AbstractContextManager
from functools import cached_property
from typing import Any, NamedTuple, Protocol

from sqlalchemy.engine import Connection

from policyhub.domain.audit_keys import AuditKeyring
from policyhub.storage.repositories.changes import PolicyChangeRepository
from policyhub.storage.repositories.console_sessions import ConsoleSessionRepository
from policyhub.storage.repositories.decisions import DecisionRepository
from policyhub.storage.repositories.events import EventRepository
from policyhub.storage.repositories.idempotency import IdempotencyRepository
from policyhub.storage.repositories.keys import KeyRepository
from policyhub.storage.repositories.orgs import OrgRepository
from policyhub.storage.repositories.policies import PolicyRepository
from policyhub.storage.repositories.principals import PrincipalRepository
from policyhub.storage.repositories.resources import ResourceRepository
from policyhub.storage.repositories.rollout import RolloutRepository
from policyhub.storage.repositories.schemas import DocumentSchemaRepository
from policyhub.storage.repositories.scopes import ScopeRepository


class StalePlan(Exception):
    """A write planned on a read found, in its write transaction, that what it read has changed since.

    Raised before the write has changed anything; the caller runs the write again from the start, under
    the lock (see ``GroupCommitWriter``).
    """


#: A write: what runs in a write unit of work.
Work = Callable[["UnitOfWork"], Any]


class Preparation(NamedTuple):
    """How a write can be planned on a read unit of work, outside the write lock (``Database.transact``)."""

    #: What the write changes: of several concurrent writes with the same target, one is prepared.
    target: Hashable
    #: Plans on a read; returns the write to run under the lock (it may raise :class:`StalePlan`), or
    #: None when the write can only run from the start under the lock.
    plan: Callable[[UnitOfWork], Work | None]


class Transactions(Protocol):
    """What the batching threads (group commit, group reads) need of the transactor that owns them."""

    is_sqlite: bool

    def read(self) -> AbstractContextManager[UnitOfWork]: ...

    def write(self, *, rollback: bool = False, tracked: bool = True) -> AbstractContextManager[UnitOfWork]: ...

    def run_alone(self, work: Work, *, rollback: bool, attempts: int, tracked: bool) -> Any: ...


class UnitOfWork:
    """Repositories share the connection, so everything they write commits or rolls back together."""

    def __init__(self, conn: Connection, audit_keyring: AuditKeyring | None = None) -> None:
        self.conn = conn
        #: The key that MACs the audit events written here, and verifies them (None: unkeyed).
        self.audit_keyring = audit_keyring
        self.is_sqlite = conn.dialect.name == "sqlite"
        #: What services remember of this transaction's reads (the audit chain head of a locked org).
        #: Emptied by :meth:`forget` when the transaction rolls back to a savepoint.
        self.cache: dict[str, Any] = {}

    def forget(self) -> None:
        """Drop what was remembered of this transaction: it rolled back to a savepoint, and those reads
        may describe writes that are gone."""
        self.cache.clear()

    @cached_property
    def orgs(self) -> OrgRepository:
        return OrgRepository(self.conn)

    @cached_property
    def scopes(self) -> ScopeRepository:
        return ScopeRepository(self.conn)

    @cached_property
    def principals(self) -> PrincipalRepository:
        return PrincipalRepository(self.conn)

    @cached_property
    def keys(self) -> KeyRepository:
        return KeyRepository(self.conn)

    @cached_property
    def policies(self) -> PolicyRepository:
        return PolicyRepository(self.conn)

    @cached_property
    def changes(self) -> PolicyChangeRepository:
        return PolicyChangeRepository(self.conn)

    @cached_property
    def events(self) -> EventRepository:
        return EventRepository(self.conn)

    @cached_property
    def idempotency(self) -> IdempotencyRepository:
        return IdempotencyRepository(self.conn)

    @cached_property
    def schemas(self) -> DocumentSchemaRepository:
        return DocumentSchemaRepository(self.conn)

    @cached_property
    def resources(self) -> ResourceRepository:
        return ResourceRepository(self.conn)

    @cached_property
    def decisions(self) -> DecisionRepository:
        return DecisionRepository(self.conn)

    @cached_property
    def rollout(self) -> RolloutRepository:
        return RolloutRepository(self.conn)

    @cached_property
    def console_sessions(self) -> ConsoleSessionRepository:
        return ConsoleSessionRepository(self.conn)
