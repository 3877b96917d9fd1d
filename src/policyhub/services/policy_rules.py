"""The rules of a policy document, as pure functions: defaults, server-owned fields, what changed, what
may not change, and the checks of a write's raw values. No storage, no lock."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from typing import Any

from policyhub.domain.canonical import content_hash, same_json
from policyhub.domain.policy_document import HOW_INSTEAD, SERVER_OWNED, WRITABLE, WrittenFields, scope_ref
from policyhub.domain.policy_fields import EDITABLE
from policyhub.domain.records import Policy, Version
from policyhub.errors import Conflict, FieldError, InvalidInput
from policyhub.policy_types.base import NormalizedSpec, PolicyType
from policyhub.services.validation_context import UowValidationContext


@dataclass
class Draft:
    fields: WrittenFields
    normalized: NormalizedSpec
    comment: str


# -- rules -------------------------------------------------------------------------------------------
def defaults() -> dict[str, Any]:
    """The optional fields' defaults (fresh objects for the mutable ones): what an omitted field resets to."""
    return {f.name: f.default_value() for f in _OPTIONAL}


_OPTIONAL = tuple(f for f in EDITABLE if not f.required)


def reject_server_owned(document: dict[str, Any], stored: dict[str, Any] | None) -> None:
    """Server-owned fields may be echoed back unchanged; any other value is a 400 saying what to do."""
    errors = []
    for key in SERVER_OWNED:
        if key not in document:
            continue
        value = scope_ref(document[key]) if key == "scope" else document[key]
        if stored is None or value != stored[key]:
            how = HOW_INSTEAD.get(key, "it is set by the server")
            errors.append(FieldError(key, f"cannot be set or changed: {how}"))
    unknown = sorted(set(document) - set(SERVER_OWNED) - set(WRITABLE))
    errors += [FieldError(key, "unknown field") for key in unknown]
    if errors:
        raise InvalidInput("; ".join(f"{e.field}: {e.message}" for e in errors), errors)


def removals_as_null(stored: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    """A patched document in which each server-owned member the patch removed (merge patch ``null``, JSON
    Patch ``remove``) reads as set to null, so that removing one is refused exactly as setting it to null
    is (``{"scope": null}`` is a 400 naming ``scope``, not silently ignored), and allowed where it was null.
    """
    removed = [key for key in SERVER_OWNED if key in stored and key not in document]
    return {**document, **dict.fromkeys(removed)} if removed else document


def content_hash_changes(current: Policy, new: NormalizedSpec, new_hash: str) -> bool:
    """Whether the content hash changes, hashing the current content only when cheaper tests cannot tell.

    Two source texts compare as text, two specs as canonical JSON (:func:`same_json`).
    """
    if new.source is not None and current.source is not None:
        return new.source != current.source
    if new.source is None and current.source is None:
        return not same_json(new.spec, current.spec)
    return new_hash != content_hash(current.spec, current.source)


#: The metadata fields: every writable field but the name (a change of its own) and the content (versioned:
#: a change makes a new version).
_METADATA = tuple(f for f in EDITABLE if not f.versioned and f.name != "name")
METADATA_FIELDS = tuple(f.name for f in _METADATA)


def drafted_fields(draft: Draft) -> dict[str, Any]:
    """The policy's fields as the draft sets them (its content normalised), by record field: a new policy is
    made of them, a changed one replaces its own with them."""
    fields = {
        f.name: f.load(getattr(draft.fields, f.name)) if f.load else getattr(draft.fields, f.name) for f in _METADATA
    }
    return {**fields, "name": draft.fields.name, "spec": draft.normalized.spec, "source": draft.normalized.source}


def metadata_changes(before: Policy, after: Policy) -> dict[str, dict[str, Any]]:
    changes = {}
    for name in METADATA_FIELDS:
        old, new = getattr(before, name), getattr(after, name)
        if not same_json(plain(old), plain(new)):
            changes[name] = {"before": plain(old), "after": plain(new)}
    return changes


def restorable(
    plugin: PolicyType, current: Policy, old: Version, ctx: UowValidationContext
) -> tuple[tuple[str, str], ...]:
    """The references of ``old``'s content, which must pass the validation a write of it would pass now."""
    try:
        normalized = plugin.normalize(old.spec, ctx)
        check_immutable_spec(plugin, current.spec, normalized.spec)
    except InvalidInput as exc:
        raise Conflict(f"version {old.version} can no longer be restored: {exc.detail}", exc.errors) from None
    return normalized.references


def plain(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def check_immutable_spec(plugin: PolicyType, old: dict[str, Any], new: dict[str, Any]) -> None:
    for dotted in plugin.immutable_fields:
        if not same_json(dig(old, dotted), dig(new, dotted)):
            raise InvalidInput.field(f"spec.{dotted}", "cannot be changed after creation; create a new policy")


def dig(doc: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        doc = doc.get(part) if isinstance(doc, dict) else None
    return doc


def text_field(value: Any, field_name: str, *, required: bool = False) -> str:
    if value is None:
        if required:
            raise InvalidInput.field(field_name, "field required")
        return ""
    if not isinstance(value, str):
        raise InvalidInput.field(field_name, "must be a string")
    return value


def json_text(value: Any) -> str:
    """A value as JSON text, for a message that shows a body to send."""
    return json.dumps(value, ensure_ascii=False)


def optional_text_field(value: Any, field_name: str) -> str | None:
    return None if value is None else text_field(value, field_name)
