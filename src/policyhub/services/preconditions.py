"""HTTP conditional-request rules (RFC 9110 section 13), in terms of the domain."""

from __future__ import annotations

import re

from policyhub.errors import InvalidInput, PreconditionFailed, PreconditionRequired

_TAG = re.compile(r'\s*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*')


def parse_tags(header: str, name: str) -> list[tuple[bool, str]] | None:
    """Parse an If-Match/If-None-Match value: None for ``*``, else (weak, opaque) pairs."""
    if header.strip() == "*":
        return None
    tags: list[tuple[bool, str]] = []
    pos = 0
    while pos < len(header):
        m = _TAG.match(header, pos)
        if not m:
            raise InvalidInput.field(name, 'must be "*" or a list of quoted entity tags such as "abc.3"')
        tags.append((m.group(1) is not None, f'"{m.group(2)}"'))
        pos = m.end()
        if pos < len(header):
            if header[pos] != ",":
                raise InvalidInput.field(name, "entity tags must be separated by commas")
            pos += 1
    if not tags:
        raise InvalidInput.field(name, "must not be empty")
    return tags


def check(
    current_etag: str | None,
    *,
    if_match: str | None,
    if_none_match: str | None = None,
    require_if_match: bool = False,
) -> None:
    """Raise 412/428/400 as the headers demand. ``current_etag`` is None when the target does not exist."""
    if if_match is not None:
        tags = parse_tags(if_match, "If-Match")
        if current_etag is None:
            raise PreconditionFailed("If-Match given but the policy does not exist", None)
        # Strong comparison: a weak tag never matches.
        if tags is not None and not any(not weak and tag == current_etag for weak, tag in tags):
            raise PreconditionFailed(f"If-Match does not match the current ETag {current_etag}", current_etag)
    elif require_if_match and current_etag is not None:
        raise PreconditionRequired("this organization requires If-Match on every change of an existing policy")
    if if_none_match is not None:
        tags = parse_tags(if_none_match, "If-None-Match")
        if current_etag is not None and (tags is None or any(tag == current_etag for _, tag in tags)):
            raise PreconditionFailed("the policy already exists (If-None-Match)", current_etag)
