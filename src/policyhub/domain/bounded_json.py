"""JSON values under a byte budget: their size, and a copy that fits with what was cut marked.

Sizes are the length of the value's compact JSON text in UTF-8 (what a response or a JSON column
holds). A value cut to fit keeps its shape down to the cut: the members that fit stay as they are, and
each member that did not is replaced by a *truncation marker* ``{"_truncated": true, "bytes": N,
"sha256": "..."}`` giving the size and the SHA-256 of the sorted-key compact JSON of what it replaced.
So a reader sees which fields were cut and how large they were, and the result is still valid JSON of
the same outer shape (an object stays an object with the same keys).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import orjson

#: The key that makes an object a truncation marker.
TRUNCATED = "_truncated"
#: Levels of objects descended into to cut a large member rather than replace it whole.
MAX_DEPTH = 4


def json_bytes(value: Any, *, sort_keys: bool = False) -> bytes:
    """Compact JSON text (orjson; the standard library for what orjson refuses, such as huge integers)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS if sort_keys else 0)
    except (TypeError, orjson.JSONEncodeError):
        text = json.dumps(value, sort_keys=sort_keys, separators=(",", ":"), ensure_ascii=False, default=str)
        return text.encode("utf-8", "surrogatepass")


def json_size(value: Any) -> int:
    """Bytes of ``value`` as compact JSON."""
    return len(json_bytes(value))


def marker(value: Any, size: int | None = None) -> dict[str, Any]:
    """The truncation marker that stands for ``value``."""
    text = json_bytes(value, sort_keys=True)
    return {TRUNCATED: True, "bytes": len(text) if size is None else size, "sha256": hashlib.sha256(text).hexdigest()}


def is_marker(value: Any) -> bool:
    return isinstance(value, dict) and value.get(TRUNCATED) is True


def bounded(value: Any, max_bytes: int) -> Any:
    """``value`` itself when it fits in ``max_bytes``, else a copy cut to fit (see the module docstring).

    An object is cut member by member, largest first, each large member itself cut (down to
    :data:`MAX_DEPTH` levels) or replaced by a marker; any other value (an array, a long string) is
    replaced whole. The result may exceed ``max_bytes`` only when even the markers do not fit (an object
    with very many members): then the whole value is one marker.
    """
    size = json_size(value)
    if size <= max_bytes:
        return value
    return _cut(value, size, max_bytes, MAX_DEPTH)


def _cut(value: Any, size: int, budget: int, depth: int) -> Any:
    if not isinstance(value, dict) or depth == 0:
        return marker(value, size)
    sizes = {key: json_size(member) for key, member in value.items()}
    out = dict(value)
    excess = size - budget
    for key in sorted(sizes, key=sizes.__getitem__, reverse=True):
        if excess <= 0:
            break
        member_size = sizes[key]
        if member_size <= _MARKER_BYTES:
            break  # the rest are smaller than their markers: cutting them cannot help
        cut = _cut(value[key], member_size, max(_MARKER_BYTES, member_size - excess), depth - 1)
        out[key] = cut
        excess -= member_size - json_size(cut)
    if excess > 0:
        return marker(value, size)
    return out


#: A marker's size: ``{"_truncated":true,"bytes":NNNNNNNN,"sha256":"<64 hex>"}``.
_MARKER_BYTES = len(orjson.dumps({TRUNCATED: True, "bytes": 10**8, "sha256": "0" * 64}))
