"""In-memory domain records for unit tests that compile or evaluate policies without a database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from policyhub.domain.records import Enforcement, Policy

_AT = datetime(2026, 1, 1, tzinfo=UTC)


def policy_record(type_name: str, spec: dict[str, Any], **fields: Any) -> Policy:
    """A live, enabled, enforced policy at the org level, version 1; ``fields`` override any attribute."""
    base = Policy(
        id="p-1",
        org_id="org-1",
        scope_id=None,
        scope_path=None,
        name="p",
        description="",
        type=type_name,
        spec=spec,
        source=None,
        enforcement=Enforcement.ENFORCE,
        enabled=True,
        labels={},
        attributes={},
        revision=1,
        version=1,
        created_at=_AT,
        created_by="tester",
        updated_at=_AT,
        updated_by="tester",
        archived=False,
    )
    return replace(base, **fields)
