"""The read-only view of the org that policy types use while validating a spec."""

from __future__ import annotations

from typing import Any

from policyhub.storage.unit_of_work import UnitOfWork


class UowValidationContext:
    """Answers a policy type's questions from the current unit of work (same transaction)."""

    def __init__(self, uow: UnitOfWork, org_id: str) -> None:
        self._uow = uow
        self.org_id = org_id

    def document_schema(self, name: str) -> dict[str, Any] | None:
        return self._uow.schemas.get(self.org_id, name)

    def reference_exists(self, kind: str, ref_id: str) -> bool:
        return self._uow.resources.get(self.org_id, kind, ref_id) is not None
