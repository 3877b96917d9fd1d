"""Shared test helpers: a fake ValidationContext and error-inspection shortcuts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from policyhub.errors import InvalidInput


@dataclass
class FakeContext:
    """A ValidationContext backed by in-memory sets."""

    org_id: str = "org-1"
    schemas: dict[str, dict[str, Any]] = field(default_factory=dict)
    references: set[tuple[str, str]] = field(default_factory=set)

    def document_schema(self, name: str) -> dict[str, Any] | None:
        return self.schemas.get(name)

    def reference_exists(self, kind: str, ref_id: str) -> bool:
        return (kind, ref_id) in self.references


def error_fields(call: Callable[[], Any]) -> list[str]:
    """Run ``call``, expect InvalidInput, return the field paths of its errors."""
    with pytest.raises(InvalidInput) as info:
        call()
    assert info.value.errors, "InvalidInput without field errors"
    return [e.field for e in info.value.errors]


def error_map(call: Callable[[], Any]) -> dict[str, str]:
    """Run ``call``, expect InvalidInput, return {field: message}."""
    with pytest.raises(InvalidInput) as info:
        call()
    assert info.value.errors, "InvalidInput without field errors"
    return {e.field: e.message for e in info.value.errors}
