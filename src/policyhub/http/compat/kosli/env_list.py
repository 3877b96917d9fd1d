"""``GET /api/v2/environments/{org}``: the filters, sorting and pagination the Kosli CLI sends
(kosli-dev/cli ``cmd/kosli/listEnvironments.go``).

* ``name``: a case-insensitive substring of the name; ``type`` (repeatable): any of these types;
  ``tag`` (repeatable): has any of these tags, each ``key`` or ``key:value``; ``space_id``
  (repeatable): there are no spaces here, so it matches nothing.
* ``sort``: ``name`` (default), ``last_modified_at`` or ``last_changed_at`` (without snapshots, the
  same as ``last_modified_at``); ``sort_direction``: ``asc`` (default) or ``desc``.
* ``archived=true``: the archived environments instead of the live ones (as Kosli's control list).
* Without ``page`` and ``per_page`` the answer is the plain list, as before; with either, it is
  ``{page, per_page, total_pages, total_count, environments}`` (pages count from 1, 15 per page by
  default, as the CLI's ``--page-limit``). Pure functions only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from policyhub.http.compat.kosli import envs
from policyhub.storage.repositories.resources import Resource

SortField = Literal["name", "last_modified_at", "last_changed_at"]
SortDirection = Literal["asc", "desc"]
DEFAULT_PER_PAGE = 15
MAX_PER_PAGE = 1000

_SORT_KEYS: dict[str, Callable[[Resource], Any]] = {
    "name": lambda r: r.key,
    "last_modified_at": lambda r: (r.updated_at, r.key),
    "last_changed_at": lambda r: (r.updated_at, r.key),
}


@dataclass(frozen=True)
class EnvQuery:
    """The list's filters and order; empty tuples mean "any"."""

    name: str | None = None
    types: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    space_ids: tuple[str, ...] = ()
    sort: SortField = "name"
    direction: SortDirection = "asc"

    def matches(self, env: Resource) -> bool:
        tags = envs.tags_of(env.data)
        return (
            (not self.name or self.name.casefold() in env.key.casefold())
            and (not self.types or str(env.data.get("type", "")) in self.types)
            and (not self.tags or any(_has_tag(tags, wanted) for wanted in self.tags))
            and not self.space_ids
        )

    def select(self, environments: Sequence[Resource]) -> list[Resource]:
        found = [e for e in environments if self.matches(e)]
        found.sort(key=_SORT_KEYS[self.sort], reverse=self.direction == "desc")
        return found


def _has_tag(tags: dict[str, str], wanted: str) -> bool:
    key, sep, value = wanted.partition(":")
    return key in tags and (not sep or tags[key] == value)


def page_of(
    found: list[Resource], page: int, per_page: int, render: Callable[[list[Resource]], list[dict[str, Any]]]
) -> dict[str, Any]:
    """One page of the selected environments (only that page is rendered), in the CLI's paginated shape."""
    start = (page - 1) * per_page
    return {
        "page": page,
        "per_page": per_page,
        "total_pages": math.ceil(len(found) / per_page),
        "total_count": len(found),
        "environments": render(found[start : start + per_page]),
    }
