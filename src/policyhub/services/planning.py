"""The unit of work a plan made outside the lock sees, and the rule that makes such a plan safe.

A planned write checks, under the lock, only that *its own policy* is still at the revision it was planned
on (compare-and-set on ``revision``). So a plan may read that policy, and nothing else unchecked: a plan
that read any other row (a document schema, a referenced resource, another policy, a scope) is decided
only under the lock. The validation context is the recorded way to read other rows; any other read is
caught here, whatever code makes it: :class:`PlanningUnitOfWork` notes every repository a plan touches
beyond the lookups of one policy, and the runner refuses a plan whose view saw such a read (the write then
runs from the start under the lock, as if it had never been planned).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from policyhub.domain.records import Policy
from policyhub.storage.repositories.policies import PolicyRepository
from policyhub.storage.unit_of_work import UnitOfWork

#: The unit of work's repositories other than ``policies``: a plan that touches one is not trusted.
_OTHER_REPOSITORIES = frozenset(
    {"orgs", "scopes", "principals", "keys", "changes", "events", "idempotency", "schemas", "resources", "decisions"}
)
#: The lookups of one policy by id or name: what a planned write's compare-and-set re-checks.
_LOOKUPS = frozenset({"get", "by_name", "latest_archived_by_name"})


class _PolicyLookups(PolicyRepository):
    """``policies`` for a plan: lookups of a policy are noted by id; any other method is an unchecked read."""

    def __init__(self, repo: PolicyRepository, view: PlanningUnitOfWork) -> None:
        super().__init__(repo.conn)
        self._view = view

    def __getattribute__(self, name: str) -> Any:
        attr = super().__getattribute__(name)
        if name.startswith("_") or not callable(attr):
            return attr
        view: PlanningUnitOfWork = super().__getattribute__("_view")
        if name not in _LOOKUPS:
            view.unchecked.append(f"policies.{name}")
            return attr

        def noted(*args: Any, **kwargs: Any) -> Any:
            found = attr(*args, **kwargs)
            if isinstance(found, Policy):
                view.policies_seen.add(found.id)
            return found

        return noted


class PlanningUnitOfWork(UnitOfWork):
    """A read unit of work for planning: the same connection and transaction, with every read a plan makes
    beyond its own policy noted in :attr:`unchecked`."""

    def __init__(self, uow: UnitOfWork) -> None:
        super().__init__(uow.conn, uow.audit_keyring)
        #: The repositories (and policy queries) read that the planned write will not re-check.
        self.unchecked: list[str] = []
        #: The ids of the policies the plan looked up.
        self.policies_seen: set[str] = set()

    def __getattribute__(self, name: str) -> Any:
        if name in _OTHER_REPOSITORIES:
            super().__getattribute__("unchecked").append(name)
        return super().__getattribute__(name)

    @cached_property
    def policies(self) -> PolicyRepository:
        return _PolicyLookups(PolicyRepository(self.conn), self)

    def trusted(self) -> bool:
        """Whether a plan made on this view may be written later under the lock: it read one policy at most,
        and nothing else (a read through the validation context counts as a read: such a plan is refused)."""
        return not self.unchecked and len(self.policies_seen) <= 1
