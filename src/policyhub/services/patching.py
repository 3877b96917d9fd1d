"""Partial updates: JSON Merge Patch (RFC 7396) and JSON Patch (RFC 6902, via ``jsonpatch``)."""

from __future__ import annotations

from typing import Any

import jsonpatch
import jsonpointer

from policyhub.errors import FieldError, InvalidInput, PatchTestFailed


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396: objects merge recursively, ``null`` removes a member, anything else replaces.

    Neither input is modified; the result shares the values it takes from them (copying a request's own
    freshly parsed patch would only cost time).
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


def json_patch(document: dict[str, Any], operations: Any) -> Any:
    """Apply RFC 6902 operations atomically; a failed ``test`` is 409, anything else malformed 400."""
    if not isinstance(operations, list):
        raise InvalidInput.field("body", "a JSON Patch document must be an array of operations")
    for index, op in enumerate(operations):
        if not isinstance(op, dict) or not isinstance(op.get("op"), str) or not isinstance(op.get("path"), str):
            raise InvalidInput.field(f"body.{index}", "each operation needs string members 'op' and 'path'")
    try:
        patch = jsonpatch.JsonPatch(operations)
        return patch.apply(document, in_place=False)
    except jsonpatch.JsonPatchTestFailed as exc:
        raise PatchTestFailed(f"JSON Patch test failed: {exc}") from None
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
        raise InvalidInput(f"invalid JSON Patch: {exc}", [FieldError("body", str(exc))]) from None
    except (TypeError, ValueError, KeyError, IndexError) as exc:
        raise InvalidInput(f"invalid JSON Patch: {exc}", [FieldError("body", str(exc))]) from None
