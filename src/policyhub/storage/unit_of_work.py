"""A unit of work: one connection in one transaction, with every repository bound to it."""

from __future__ import annotations

from functools import cached_property

from sqlalchemy.engine import Connection

from policyhub.storage.repositories.decisions import DecisionRepository
from policyhub.storage.repositories.events import EventRepository
from policyhub.storage.repositories.idempotency import IdempotencyRepository
from policyhub.storage.repositories.keys import KeyRepository
from policyhub.storage.repositories.orgs import OrgRepository
from policyhub.storage.repositories.policies import PolicyRepository
from policyhub.storage.repositories.principals import PrincipalRepository
from policyhub.storage.repositories.resources import ResourceRepository
from policyhub.storage.repositories.schemas import DocumentSchemaRepository
from policyhub.storage.repositories.scopes import ScopeRepository


class UnitOfWork:
    """Repositories share the connection, so everything they write commits or rolls back together."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.is_sqlite = conn.dialect.name == "sqlite"

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
