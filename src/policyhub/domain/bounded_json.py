"""JSON values under a byte budget: how large they are, and copies cut to fit that say what was cut.

Every cut value is marked the same way, wherever it was cut (a decision's answer, the decision log):

- ``{"_truncated": true, "bytes": N}`` stands in for a value cut out whole; ``N`` is its size as compact
  JSON (in a decision's answer at least that: measuring stops once a value is over its budget). The
  decision log, which serialises what it cuts, adds ``"sha256"``: the SHA-256 of the value's sorted-key
  compact JSON.
- ``{"_truncated": true, "omitted": K, ...}`` as a list's last item: the ``K`` items after those shown
  were left out.
- A ``"_truncated"`` member holding a sentence, on an object that kept its other members, says what was
  left out of it (``"3 more entr(ies) left out"``).
- Text cut short ends with ``… [truncated: …]``, saying how much (``… [truncated: 1000 characters]``).

So ``_truncated`` is the one key a reader looks for; :func:`is_marker` tells a stand-in from a value.

Two ways to cut, for two readers:

- :func:`truncated` (decision answers, built from tenant content on the hot path): measures with
  :func:`estimated_size`, whose work is bounded by the budget however large the value, and keeps what
  fits first: small members, then a prefix of the large ones, a prefix of lists, the start of text.
- :func:`bounded` (the decision log): exact sizes (:func:`json_size`); an object keeps its keys, each large
  member cut inside or replaced by a stand-in with its hash, so a reader sees which fields were cut.
"""

from __future__ import annotations

import hashlib
import json
from itertools import chain, islice
from typing import Any

import orjson

#: The key that says something was cut (a stand-in's ``true``, or an object's sentence).
TRUNCATED = "_truncated"
#: Levels of objects :func:`bounded` descends into to cut a large member rather than replace it whole.
MAX_DEPTH = 4
#: Nesting deeper than this is replaced by :func:`truncated` (what evaluators return is shallow).
MAX_COPY_DEPTH = 32
_SCALAR_BYTES = 8  # numbers, true/false/null: a fair estimate that never needs str()


def json_bytes(value: Any, *, sort_keys: bool = False) -> bytes:
    """Compact UTF-8 JSON text: orjson, or the standard library for what orjson refuses (integers beyond
    64 bits). Keys that are not strings are written as the standard library writes them (``1`` -> ``"1"``).
    The one encoder of response bodies and measured values."""
    try:
        return orjson.dumps(value, option=_SORTED if sort_keys else _UNSORTED)
    except (TypeError, orjson.JSONEncodeError):
        text = json.dumps(value, sort_keys=sort_keys, separators=(",", ":"), ensure_ascii=False, default=str)
        return text.encode("utf-8", "surrogatepass")


_UNSORTED = orjson.OPT_NON_STR_KEYS
_SORTED = orjson.OPT_NON_STR_KEYS | orjson.OPT_SORT_KEYS


def json_size(value: Any) -> int:
    """Bytes of ``value`` as compact JSON."""
    return len(json_bytes(value))


def marker(value: Any, size: int | None = None) -> dict[str, Any]:
    """The stand-in for ``value`` with its size and hash (the decision log's)."""
    text = json_bytes(value, sort_keys=True)
    return {TRUNCATED: True, "bytes": len(text) if size is None else size, "sha256": hashlib.sha256(text).hexdigest()}


def size_marker(size: int) -> dict[str, Any]:
    """The stand-in for a value of (at least) ``size`` bytes, without hashing it."""
    return {TRUNCATED: True, "bytes": size}


def omitted_marker(count: int) -> dict[str, Any]:
    """A list's last item: ``count`` items left out."""
    return {TRUNCATED: True, "omitted": count}


def is_marker(value: Any) -> bool:
    """Whether ``value`` stands in for something cut (not an object that only lost members)."""
    return isinstance(value, dict) and value.get(TRUNCATED) is True


def truncated_text(text: str, max_bytes: int) -> str:
    """``text`` if it fits in ``max_bytes`` (UTF-8), else its start and ``… [truncated: N characters]``."""
    if len(text) * 4 <= max_bytes or len(text.encode("utf-8", "replace")) <= max_bytes:
        return text
    note = f"… [truncated: {len(text)} characters]"
    room = max(0, max_bytes - len(note.encode()))
    return text.encode("utf-8", "replace")[:room].decode("utf-8", "ignore") + note


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


def estimated_size(value: Any, limit: int) -> int:
    """The estimated size of ``value`` as JSON, or some number above ``limit`` as soon as it exceeds it.

    The work is bounded by ``limit``, however large ``value`` is (a container's length is counted before
    its items are looked at): a 142 KB decision against a 1,000-rule Kosli policy once built details of
    133 MB. The estimate is exact for ASCII text without characters JSON escapes (quotes, backslashes,
    control characters: each counted as one byte where JSON writes two to six); numbers count 8 bytes.
    """
    total = 0
    stack = [value]
    pop, push, extend = stack.pop, stack.append, stack.extend
    while stack:
        item = pop()
        kind = type(item)
        if kind is str:
            total += (len(item) if item.isascii() else len(item.encode("utf-8", "replace"))) + 2
        elif kind is dict:
            total += 2 + 4 * len(item)  # braces; each entry's quotes, colon and comma
            if total > limit:
                return total
            for key, sub in item.items():
                total += len(key) if type(key) is str else _SCALAR_BYTES
                push(sub)
        elif kind is list or kind is tuple:
            total += 2 + len(item)
            if total > limit:
                return total
            extend(item)
        else:
            total += _SCALAR_BYTES
        if total > limit:
            return total
    return total


def truncated(value: Any, max_bytes: int) -> Any:
    """A copy of ``value`` that fits in about ``max_bytes`` (``value`` itself when it fits).

    Dictionaries keep their small entries first (a status, a name: what a reader looks for), then as
    much of the large ones as fits; lists keep a prefix; long strings are cut. What was left out is
    marked (see the module docstring): an object's ``"_truncated"`` sentence, a list's last item, a
    string's tail, a stand-in for what was too deep or too large to copy.
    """
    return _copy(value, max_bytes, 0)[0]


def _copy(value: Any, budget: int, depth: int) -> tuple[Any, int]:
    """(the copy, its estimated size)."""
    size = estimated_size(value, budget)
    if size <= budget:
        return value, size
    kind = type(value)
    if kind is str:
        text = truncated_text(value, max(0, budget - 2))
        return text, len(text.encode("utf-8", "replace")) + 2
    if depth >= MAX_COPY_DEPTH or budget < 64:
        return size_marker(size), 40
    if kind is dict:
        return _copy_dict(value, budget, depth)
    if kind is list or kind is tuple:
        return _copy_list(value, budget, depth)
    return size_marker(size), 40  # pragma: no cover - scalars always fit a budget of 64


def _copy_dict(value: dict[Any, Any], budget: int, depth: int) -> tuple[dict[Any, Any], int]:
    # Small entries first (a status, a name, a count), in their order; then the large ones share the
    # rest. Measuring stops once a budget's worth has been measured: the keys after that keep their
    # order, and the first one that does not fit ends the copy (one sentence says how many were left out).
    sizes: dict[Any, int] = {}
    effort = budget
    for key, sub in value.items():
        if effort <= 0:
            break
        sizes[key] = size = estimated_size(sub, budget)
        effort -= min(size, budget) + 4
    order = [key for key in sizes if sizes[key] <= 256] + [key for key in sizes if sizes[key] > 256]
    out: dict[Any, Any] = {}
    spent = 2 + 64  # braces, and room for the marker
    kept_after = 0
    for key in chain(order, islice(value, len(sizes), None)):
        key_bytes = (len(key) if type(key) is str else _SCALAR_BYTES) + 4
        room = budget - spent - key_bytes
        if room < 48:
            if key in sizes:
                continue
            break
        known = sizes.get(key)
        if known is not None and known <= room:
            out[key], used = value[key], known
        else:
            out[key], used = _copy(value[key], room, depth + 1)
            if key not in sizes:
                kept_after += 1
        spent += key_bytes + used
    copy = {key: out[key] for key in islice(value, len(sizes) + kept_after) if key in out}
    if len(copy) < len(value):
        copy[TRUNCATED] = f"{len(value) - len(copy)} more entr(ies) left out"
    return copy, spent


def _copy_list(value: list[Any] | tuple[Any, ...], budget: int, depth: int) -> tuple[list[Any], int]:
    out: list[Any] = []
    spent = 2 + 64  # brackets, and room for the marker
    for item in value:
        room = budget - spent - 1  # and its comma
        if room < 48:
            break
        copy, used = _copy(item, room, depth + 1)
        if used > room:
            break
        out.append(copy)
        spent += used + 1
        if copy is not item and type(item) is not str:
            break  # a cut item is the last one worth showing
    left = len(value) - len(out)
    if left:
        out.append(omitted_marker(left))
    return out, spent
