"""Where a policy sits in its API proxy: the list (scope, endpoint, pipeline) and its 1-based order.

A proxy has one ordered list per (targetScope, targetEndpoint, targetEndpointHTTPMethod,
targetPipeline). The placement lives in the policy's ``attributes["apinizer"]``; orders are kept
dense (1..n) by renumbering the other policies of a list whenever one is added, moved or removed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from policyhub.domain.records import Policy
from policyhub.errors import FieldError, InvalidInput
from policyhub.http.compat.apinizer import naming
from policyhub.http.compat.apinizer.schemas import OperationMetadata

T = TypeVar("T")
_UNORDERED = 2**31


@dataclass(frozen=True)
class Slot:
    """One ordered policy list of a proxy; ``endpoint``/``method`` are None for ALL."""

    scope: str
    pipeline: str
    endpoint: str | None = None
    method: str | None = None


def requested_slot(meta: OperationMetadata) -> Slot:
    """The list an operation names; ENDPOINT needs both the endpoint and its HTTP method (else 400)."""
    if meta.targetScope == "ALL":
        return Slot("ALL", meta.targetPipeline)
    missing = [
        FieldError(f"operationMetadata.{field}", "required when targetScope is ENDPOINT")
        for field in ("targetEndpoint", "targetEndpointHTTPMethod")
        if getattr(meta, field) is None
    ]
    if missing:
        raise InvalidInput(
            "Invalid targetScope: ENDPOINT requires targetEndpoint and targetEndpointHTTPMethod", missing
        )
    return Slot("ENDPOINT", meta.targetPipeline, meta.targetEndpoint, meta.targetEndpointHTTPMethod)


def stored(policy: Policy) -> dict[str, Any]:
    """The policy's ``attributes["apinizer"]`` (empty if someone removed it)."""
    value = policy.attributes.get("apinizer")
    return value if isinstance(value, dict) else {}


def slot_of(policy: Policy) -> Slot:
    """The list a stored policy is in (ALL/REQUEST if its placement was damaged outside this API)."""
    attrs = stored(policy)
    scope, pipeline = attrs.get("targetScope"), attrs.get("targetPipeline")
    pipeline = pipeline if pipeline in ("REQUEST", "RESPONSE", "ERROR") else "REQUEST"
    if scope == "ENDPOINT":
        return Slot("ENDPOINT", pipeline, attrs.get("targetEndpoint"), attrs.get("targetEndpointHTTPMethod"))
    return Slot("ALL", pipeline)


def order_of(policy: Policy) -> int:
    value = stored(policy).get("order")
    return value if isinstance(value, int) and not isinstance(value, bool) else _UNORDERED


def apinizer_name(policy: Policy) -> str:
    """The name as the client wrote it (or as the core name encodes it)."""
    value = stored(policy).get("name")
    return value if isinstance(value, str) else naming.policy_part(policy.name) or policy.name


def ordered(policies: Sequence[Policy], slot: Slot) -> list[Policy]:
    """The policies of one list in execution order (stored order, then name)."""
    return sorted((p for p in policies if slot_of(p) == slot), key=lambda p: (order_of(p), p.name))


def attributes(name: str, project: str, proxy: str, slot: Slot, order: int) -> dict[str, Any]:
    """The ``attributes["apinizer"]`` document of a placed policy."""
    doc: dict[str, Any] = {
        "name": name,
        "project": project,
        "apiProxy": proxy,
        "targetScope": slot.scope,
        "targetPipeline": slot.pipeline,
        "order": order,
    }
    if slot.scope == "ENDPOINT":
        doc["targetEndpoint"] = slot.endpoint
        doc["targetEndpointHTTPMethod"] = slot.method
    return doc


def insert_at(others: Sequence[T], item: T, order: int | None) -> list[T]:
    """``others`` with ``item`` at 1-based position ``order``.

    None, or an order >= the size of the resulting list, puts the item at the end: ``order`` is the
    item's position whenever that position exists.
    """
    if order is None or order > len(others):
        return [*others, item]
    return [*others[: order - 1], item, *others[order - 1 :]]
