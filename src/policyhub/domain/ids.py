"""Ids as PolicyHub writes them: UUIDs in canonical text (lower case, hyphenated, 36 characters)."""

from __future__ import annotations

import uuid


def is_canonical_uuid(ref: str) -> bool:
    """Whether ``ref`` is a UUID written as the services write ids (``str(uuid.UUID(...))``).

    Ids are stored as that text, so only such a reference can name an object by id: any other spelling
    (upper case, no hyphens, braces, ``urn:uuid:``) is looked up as a name, key or path instead, on SQLite
    and PostgreSQL alike.
    """
    if len(ref) != 36:
        return False
    try:
        return str(uuid.UUID(ref)) == ref
    except ValueError:
        return False


def canonical_uuid(text: str) -> str | None:
    """``text`` in canonical form when it is a UUID in any spelling ``uuid.UUID`` reads, else None: for a
    vendor dialect whose clients may send any of them (Syft Space's FastAPI ``UUID`` parameters)."""
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return None
