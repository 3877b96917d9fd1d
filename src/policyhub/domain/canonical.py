"""Canonical JSON and content hashes: one definition used for ETags, versions and the audit chain."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 kept: equal documents give equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def content_hash(spec: dict[str, Any], source: str | None) -> str:
    """A version's content hash: the verbatim source when there is one, else the canonical spec."""
    return sha256_hex(source if source is not None else canonical_json(spec))


def utc(value: datetime) -> datetime:
    """Treat naive datetimes (SQLite returns those) as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso(value: datetime) -> str:
    """RFC 3339 with microseconds and ``Z``: the one textual form of a timestamp."""
    return utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def now() -> datetime:
    return datetime.now(UTC)
