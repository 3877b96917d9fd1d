"""Partial updates: JSON Merge Patch (RFC 7396) and JSON Patch (RFC 6902, via ``jsonpatch``).

A patch is tenant content that can amplify: twenty JSON Patch ``copy`` operations of a document into
itself double it twenty times. So a patch runs under a :class:`PatchBudget`: at most
``max_operations`` operations, the values it adds, replaces or copies at most ``max_bytes`` in all
(measured as compact JSON, each value once, before it is copied), of which ``copy`` operations (the only
ones that amplify) at most ``max_copied_bytes`` (1 MiB), and the patched document at most ``max_bytes``
(the request body limit: the largest document a PUT could have sent). Operations are
applied one at a time, so a doubling patch stops at the operation that would cross the budget, having
built at most ``max_bytes`` more than the stored document.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import jsonpatch
import jsonpointer

from policyhub.domain.bounded_json import json_bytes, json_size
from policyhub.errors import FieldError, InvalidInput, PatchTestFailed, PayloadTooLarge


@dataclass(frozen=True)
class PatchBudget:
    """The bounds of one patch (``max_bytes`` is the request body limit)."""

    max_operations: int = 1000
    max_bytes: int = 10 * 1024 * 1024
    #: What ``copy`` operations may add in all: the only operation whose value the body does not carry, so
    #: the only one that amplifies. Kept well below ``max_bytes``: each copy is a deep copy made while
    #: the shared writer thread waits (a PUT can still send a document up to ``max_bytes``).
    max_copied_bytes: int = 1024 * 1024


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396: objects merge recursively, ``null`` removes a member, anything else replaces.

    Neither input is modified; the result shares the values it takes from them (copying a request's own
    freshly parsed patch would only cost time). A merge patch cannot amplify (the result is at most the
    target and the patch together); :func:`check_document_size` bounds the result.
    """
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def check_document_size(document: Any, budget: PatchBudget) -> None:
    """A patched document larger than the body limit is refused (413), as a PUT of it would be."""
    size = json_size(document)
    if size > budget.max_bytes:
        raise _too_large("body", f"the patched document would be {size} bytes; the limit is {budget.max_bytes}")


def json_patch(document: dict[str, Any], operations: Any, budget: PatchBudget | None = None) -> Any:
    """Apply RFC 6902 operations atomically under ``budget``; a failed ``test`` is 409, a patch over its
    budget 400 (too many operations) or 413 (too large), anything else malformed 400."""
    budget = budget or PatchBudget()
    if not isinstance(operations, list):
        raise InvalidInput.field("body", "a JSON Patch document must be an array of operations")
    if len(operations) > budget.max_operations:
        raise InvalidInput.field(
            "body", f"a JSON Patch may have at most {budget.max_operations} operations, not {len(operations)}"
        )
    for index, op in enumerate(operations):
        if not isinstance(op, dict) or not isinstance(op.get("op"), str) or not isinstance(op.get("path"), str):
            raise InvalidInput.field(f"body.{index}", "each operation needs string members 'op' and 'path'")
    try:
        result = copy.deepcopy(document)  # applied on a copy: a failing operation leaves the document as it was
        added = copied = 0
        for index, op in enumerate(operations):
            if op["op"] == "test":
                _test(result, op, index)
                continue
            size = _added_bytes(result, op)
            added += size
            if op["op"] == "copy":
                copied += size
                if copied > budget.max_copied_bytes:
                    raise _too_large(
                        f"body.{index}",
                        f"the copy operations up to this one copy more than {budget.max_copied_bytes} bytes",
                    )
            if added > budget.max_bytes:
                raise _too_large(
                    f"body.{index}",
                    f"the operations up to this one add more than {budget.max_bytes} bytes (the body limit)",
                )
            result = jsonpatch.JsonPatch([op]).apply(result, in_place=True)
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
        raise InvalidInput(f"invalid JSON Patch: {exc}", [FieldError("body", str(exc))]) from None
    except (TypeError, ValueError, KeyError, IndexError) as exc:
        raise InvalidInput(f"invalid JSON Patch: {exc}", [FieldError("body", str(exc))]) from None
    check_document_size(result, budget)
    return result


def _added_bytes(document: Any, op: dict[str, Any]) -> int:
    """What an operation adds to the document, measured before it is applied (``copy``: the source)."""
    kind = op["op"]
    if kind in ("add", "replace"):
        return json_size(op.get("value"))
    if kind == "copy" and isinstance(op.get("from"), str):
        return json_size(jsonpointer.resolve_pointer(document, op["from"]))
    return 0  # remove and move add nothing


def _test(document: Any, op: dict[str, Any], index: int) -> None:
    """RFC 6902 section 4.6, with a message that shows JSON values and JSON types."""
    if "value" not in op:
        raise InvalidInput.field(f"body.{index}", "a test operation needs a 'value' member")
    path, expected = op["path"], op["value"]
    try:
        found = jsonpointer.resolve_pointer(document, path)
    except jsonpointer.JsonPointerException:
        message = f"test at {path!r} failed: the document has no value there"
        raise PatchTestFailed(f"JSON Patch {message}", [FieldError(f"body.{index}", message)]) from None
    if not _json_equal(found, expected):
        message = f"test at {path!r} failed: expected {_shown(expected)}, found {_shown(found)}"
        raise PatchTestFailed(f"JSON Patch {message}", [FieldError(f"body.{index}", message)])


def _json_equal(a: Any, b: Any) -> bool:
    """JSON equality: numbers by value (1 equals 1.0), never a boolean equal to a number."""
    if _json_type(a) != _json_type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(map(_json_equal, a, b))
    return bool(a == b)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _shown(value: Any, limit: int = 120) -> str:
    """A value as a reader would write it: its JSON (cut at ``limit`` characters) and its JSON type."""
    text = json_bytes(value).decode("utf-8", "replace")
    if len(text) > limit:
        text = text[:limit] + "…"
    kind = _json_type(value)
    return text if kind == "null" else f"{text} ({kind})"


def _too_large(field: str, message: str) -> PayloadTooLarge:
    return PayloadTooLarge(f"{field}: {message}", [FieldError(field, message)])
