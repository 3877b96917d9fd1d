"""Listing: JFrog's filters, sorting and its ``{items, offset, limit, page_size, total_count}`` page.

The core lists policies by name; JFrog filters on spec fields (mode, stage, scope keys) and sorts by
several, so the (small) set of an org's lifecycle policies is filtered and paged here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from starlette.datastructures import QueryParams

from policyhub.domain.records import Policy
from policyhub.errors import InvalidInput
from policyhub.http.compat.jfrog.translate import jfrog_name
from policyhub.storage.repositories.resources import Resource

T = TypeVar("T")
LABELS_PARAM = "application_labels"


def first_item(offset: int | None, page: int | None) -> int:
    """The page start: ``offset`` (what JFrog's clients send) or its documented alias ``page``."""
    if offset is not None and page is not None and offset != page:
        raise InvalidInput.field("page", "is an alias of offset; give one of them")
    return offset if offset is not None else (page or 0)


def page_of(items: Sequence[T], offset: int, limit: int, render: Callable[[T], dict[str, Any]]) -> dict[str, Any]:
    chosen = items[offset : offset + limit]
    return {
        "items": [render(item) for item in chosen],
        "offset": offset,
        "limit": limit,
        "page_size": len(chosen),
        "total_count": len(items),
    }


def label_filter(params: QueryParams) -> dict[str, str]:
    """``application_labels`` as a JSON object (``{"env":"prod"}``) or deepObject (``application_labels[env]=prod``)."""
    wanted: dict[str, str] = {}
    for raw in params.getlist(LABELS_PARAM):
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict) or not all(isinstance(v, str) for v in parsed.values()):
            raise InvalidInput.field(LABELS_PARAM, 'must be a JSON object of strings, e.g. {"env":"prod"}')
        wanted.update(parsed)
    for name, value in params.multi_items():
        if name.startswith(LABELS_PARAM + "[") and name.endswith("]") and len(name) > len(LABELS_PARAM) + 2:
            wanted[name[len(LABELS_PARAM) + 1 : -1]] = value
    return wanted


@dataclass(frozen=True)
class PolicyQuery:
    """JFrog's policy filters; empty collections and None mean "any"."""

    ids: frozenset[str] = frozenset()
    names: frozenset[str] = frozenset()
    enabled: bool | None = None
    mode: str | None = None
    action_type: str | None = None
    scope_type: str | None = None
    project_key: str | None = None
    stage_keys: frozenset[str] = frozenset()
    stage_gates: frozenset[str] = frozenset()
    application_keys: frozenset[str] = frozenset()
    application_labels: Mapping[str, str] = field(default_factory=dict)

    def matches(self, policy: Policy) -> bool:
        spec = policy.spec
        action = spec.get("action") or {}
        stage = action.get("stage") or {}
        scope = spec.get("scope") or {}
        labels = {(lab.get("key"), lab.get("value")) for lab in scope.get("application_labels") or []}
        checks = (
            not self.ids or policy.id in self.ids,
            not self.names or jfrog_name(policy) in self.names,
            self.enabled is None or policy.enabled == self.enabled,
            self.mode is None or spec.get("mode") == self.mode,
            self.action_type is None or action.get("type") == self.action_type,
            self.scope_type is None or scope.get("type") == self.scope_type,
            self.project_key is None or self.project_key in (scope.get("project_keys") or []),
            not self.stage_keys or stage.get("key") in self.stage_keys,
            not self.stage_gates or stage.get("gate") in self.stage_gates,
            not self.application_keys or bool(self.application_keys & set(scope.get("application_keys") or [])),
            all((k, v) in labels for k, v in self.application_labels.items()),
        )
        return all(checks)


def _action_key(p: Policy) -> tuple[str, str, str]:
    action = p.spec.get("action") or {}
    stage = action.get("stage") or {}
    return (str(action.get("type", "")), str(stage.get("key", "")), str(stage.get("gate", "")))


def _resource_key(p: Policy) -> tuple[str, str]:
    scope = p.spec.get("scope") or {}
    keys = scope.get("project_keys") or scope.get("application_keys") or []
    return (str(scope.get("type", "")), ",".join(keys))


POLICY_SORT_KEYS: dict[str, Callable[[Policy], Any]] = {
    "name": lambda p: (jfrog_name(p).casefold(), p.id),
    "created_at": lambda p: (p.created_at, p.id),
    "updated_at": lambda p: (p.updated_at, p.id),
    "enabled": lambda p: (p.enabled, p.created_at, p.id),
    "mode": lambda p: (str(p.spec.get("mode", "")), p.created_at, p.id),
    "action": lambda p: (_action_key(p), p.created_at, p.id),
    "resource": lambda p: (_resource_key(p), p.created_at, p.id),
}

RESOURCE_SORT_KEYS: dict[str, Callable[[Resource], Any]] = {
    "name": lambda r: (r.key.casefold(), r.id),
    "created_at": lambda r: (r.created_at, r.id),
    "updated_at": lambda r: (r.updated_at, r.id),
}
