"""The public JSON document of a policy: what GET returns and what PUT/PATCH edit (derived from the declaration
of a policy's fields, ``domain.policy_fields``)."""

from __future__ import annotations

from typing import Any, Protocol, cast, get_type_hints

from pydantic import BaseModel, ConfigDict, create_model

from policyhub.domain import policy_fields
from policyhub.domain.records import Policy

#: Fields the server owns: a write may repeat them only with their stored value.
SERVER_OWNED = policy_fields.SERVER_OWNED
#: How a client changes a server-owned field instead (used in the 400 message).
HOW_INSTEAD = {f.key: f.how_instead for f in policy_fields.SHOWN if f.key is not None and f.how_instead}

#: The writable fields of a policy, strictly typed; unknown keys are rejected (read through
#: :class:`WrittenFields`, made by :func:`written_fields`).
PolicyFields: type[BaseModel] = create_model(
    "PolicyFields",
    __config__=ConfigDict(extra="forbid", strict=True),
    __doc__="The writable fields of a policy, strictly typed; unknown keys are rejected.",
    **policy_fields.validated(policy_fields.EDITABLE),
)
WRITABLE = tuple(PolicyFields.model_fields)


class WrittenFields(Protocol):
    """A validated write (a :data:`PolicyFields`), as the rules that read its fields by name see it; the
    others are read by name from the declaration (``getattr``)."""

    name: str
    spec: dict[str, Any] | None
    source: str | None


def _check_written() -> None:
    """``WrittenFields`` reads fields as the declaration types them."""
    declared = {f.name: f.input_type for f in policy_fields.EDITABLE}
    wrong = sorted(name for name, hint in get_type_hints(WrittenFields).items() if declared.get(name) != hint)
    if wrong:
        raise TypeError(f"WrittenFields differs from POLICY_FIELDS for {wrong}")


_check_written()


def written_fields(body: dict[str, Any]) -> WrittenFields:
    """``body`` validated as the writable fields (raises Pydantic's ``ValidationError``)."""
    return cast(WrittenFields, PolicyFields.model_validate(body))


def scope_ref(value: object) -> object:
    """The canonical form of a scope reference: no surrounding slashes; ``""`` and ``"/"`` mean the org."""
    if isinstance(value, str):
        value = value.strip("/")
        return value or None
    return value


def etag(policy: Policy) -> str:
    """A strong entity tag, unique across policies (so a recreated name never matches an old tag)."""
    return f'"{policy.id}.{policy.revision}"'


#: (document key, attribute, conversion) of each shown field, in document order.
_SHOWN = tuple((f.key, f.name, f.show) for f in policy_fields.SHOWN if f.key is not None)


def to_document(policy: Policy) -> dict[str, Any]:
    """The policy as clients see it. Keys are in a stable order (the declaration's)."""
    return {key: show(getattr(policy, name)) if show else getattr(policy, name) for key, name, show in _SHOWN}
