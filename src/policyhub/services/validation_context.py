"""The read-only view of the org that policy types use while validating a spec."""

from __future__ import annotations

from typing import Any

from policyhub.storage.unit_of_work import UnitOfWork


class UowValidationContext:
    """Answers a policy type's questions from the current unit of work (same transaction)."""

    def __init__(self, uow: UnitOfWork, org_id: str) -> None:
        self._uow = uow
        self.org_id = org_id
        #: Whether a question was asked: the answer then holds only while the org's write lock is held.
        self.consulted = False

    def document_schema(self, name: str) -> dict[str, Any] | None:
        self.consulted = True
        return self._uow.schemas.get(self.org_id, name)

    def reference_exists(self, kind: str, ref_id: str) -> bool:
        self.consulted = True
        return self._uow.resources.get(self.org_id, kind, ref_id) is not None
