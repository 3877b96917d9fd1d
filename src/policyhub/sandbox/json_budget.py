"""JSON values cut to a byte budget: what an evaluator built from tenant content is answered bounded.

An evaluator's structured output (a Kosli rule evaluation per artifact and trail, a Rego rule's
output, detector matches) can grow with the product of a tenant's policy and a tenant's input: a
142 KB decision against a 1,000-rule Kosli policy once answered 133 MB. :func:`json_size` measures a
value without serialising it and stops as soon as it is over the budget (so measuring a huge value
costs what the budget costs, not what the value costs); :func:`truncated` copies the part that fits
and marks what it left out.

Sizes are estimates of the UTF-8 JSON text, exact for ASCII text without characters JSON escapes
(quotes, backslashes, control characters: each counted as one byte where JSON writes two to six).
"""

from __future__ import annotations

from itertools import chain, islice
from typing import Any

#: Nesting deeper than this is cut (the copy is recursive; what evaluators return is shallow).
MAX_DEPTH = 32
_SCALAR_BYTES = 8  # numbers, true/false/null: a fair estimate that never needs str()
MARKER_KEY = "_truncated"


def json_size(value: Any, limit: int) -> int:
    """The estimated size of ``value`` as JSON, or some number above ``limit`` as soon as it exceeds it.

    The work is bounded by ``limit``, however large ``value`` is (a container's length is counted before
    its items are looked at).
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


def truncated_text(text: str, max_bytes: int) -> str:
    """``text`` if it fits in ``max_bytes`` (UTF-8), else its start and a marker saying how much was cut."""
    if len(text) * 4 <= max_bytes or len(text.encode("utf-8", "replace")) <= max_bytes:
        return text
    marker = f"… [truncated: {len(text)} characters]"
    room = max(0, max_bytes - len(marker.encode()))
    return text.encode("utf-8", "replace")[:room].decode("utf-8", "ignore") + marker


def truncated(value: Any, max_bytes: int) -> Any:
    """A copy of ``value`` that fits in about ``max_bytes`` (``value`` itself when it fits).

    Dictionaries keep their small entries first (a status, a name: what a reader looks for), then as
    much of the large ones as fits; lists keep a prefix; long strings are cut. What was left out is
    named by a marker: a ``"_truncated"`` entry, a last list item, a string's tail.
    """
    return _copy(value, max_bytes, 0)[0]


def _copy(value: Any, budget: int, depth: int) -> tuple[Any, int]:
    """(the copy, its estimated size)."""
    size = json_size(value, budget)
    if size <= budget:
        return value, size
    kind = type(value)
    if kind is str:
        text = truncated_text(value, max(0, budget - 2))
        return text, len(text.encode("utf-8", "replace")) + 2
    if depth >= MAX_DEPTH or budget < 64:
        return _marker(size), 40
    if kind is dict:
        return _copy_dict(value, budget, depth)
    if kind is list or kind is tuple:
        return _copy_list(value, budget, depth)
    return _marker(size), 40  # pragma: no cover - scalars always fit a budget of 64


def _copy_dict(value: dict[Any, Any], budget: int, depth: int) -> tuple[dict[Any, Any], int]:
    # Small entries first (a status, a name, a count), in their order; then the large ones share the
    # rest. Measuring stops once a budget's worth has been measured: the keys after that keep their
    # order, and the first one that does not fit ends the copy (one marker names how many were left out).
    sizes: dict[Any, int] = {}
    effort = budget
    for key, sub in value.items():
        if effort <= 0:
            break
        sizes[key] = size = json_size(sub, budget)
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
        copy[MARKER_KEY] = f"{len(value) - len(copy)} more entr(ies) left out"
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
        out.append(f"… [truncated: {left} more item(s)]")
    return out, spent


def _marker(size: int) -> dict[str, Any]:
    return {MARKER_KEY: f"value of about {size} bytes left out"}
