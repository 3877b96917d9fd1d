"""Canonical JSON and content hashes: one definition used for ETags, versions and the audit chain."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 kept: equal documents give equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def same_json(a: Any, b: Any) -> bool:
    """Whether two JSON values have the same canonical text, without writing it.

    Python's ``==`` is nearly that, but finds 1, 1.0 and true equal (and 0.0 and -0.0): values it finds
    equal are checked again for the same type at every level.
    """
    return bool(a == b) and _same_types(a, b)


def _same_types(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return all(_same_types(value, b[key]) for key, value in a.items())
    if isinstance(a, list):
        return all(map(_same_types, a, b))
    if isinstance(a, float):
        return repr(a) == repr(b)
    return True


def has_digit_run(raw: bytes, length: int) -> bool:
    """Whether JSON text holds ``length`` or more digits in a row (a number orjson may not read exactly).

    Every digit is mapped to ``0`` and the run searched for: a tenth of a regular expression's cost.
    """
    return b"0" * length in raw.translate(_DIGITS_TO_ZERO)


_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")


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
    if value.tzinfo is UTC:  # the common case, which needs no conversion: "...+00:00" -> "...Z"
        return value.isoformat(timespec="microseconds")[:-6] + "Z"
    return utc(value).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def now() -> datetime:
    return datetime.now(UTC)
