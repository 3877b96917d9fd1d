"""The /v1 API models of a policy, built from the declaration of its fields (``domain/policy_fields.py``).

The routes read policy bodies themselves (the service validates them), so these models document the API:
the create body (POST) lists the fields a client gives when it creates a policy, with their descriptions;
the replace body (PUT) lists the same fields, every one optional (PUT may create the policy, and omitted
optional fields reset to their defaults), documenting only what PUT does differently; the document (the
response) lists every shown field as it is rendered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from policyhub.domain.policy_fields import AT_CREATION, SHOWN, PolicyField

_STRICT = ConfigDict(extra="forbid")


def _create_field(f: PolicyField) -> tuple[Any, Any]:
    return f.input_type, Field(**f.defaults(), **f.documented, description=f.description or None)


def _replace_field(f: PolicyField) -> tuple[Any, Any]:
    if f.required:
        return f.input_type | None, Field(default=None, description=f.put_description or None)
    return f.input_type, Field(**f.defaults(), description=f.put_description or None)


def _fields(make: Callable[[PolicyField], tuple[Any, Any]], declared: Iterable[PolicyField]) -> dict[str, Any]:
    """Pydantic field definitions of the ``declared`` fields, by document key."""
    return {f.key or f.name: make(f) for f in declared}


def _comment(description: str | None) -> tuple[Any, Any]:
    return str, Field(default="", description=description)


def _list_of(model: type[BaseModel]) -> Any:
    return list[model]  # type: ignore[valid-type]  # a model built at run time


#: The create body: the fields given at creation, and the comment recorded on the first version.
PolicyCreate: type[BaseModel] = create_model(
    "PolicyCreate",
    __config__=_STRICT,
    **_fields(_create_field, AT_CREATION),
    comment=_comment("comment recorded on the first version"),
)
#: The replace body: the create body's fields, each optional.
PolicyReplace: type[BaseModel] = create_model(
    "PolicyReplace",
    __config__=_STRICT,
    __doc__="Full replacement: omitted optional fields reset to their defaults.",
    **_fields(_replace_field, AT_CREATION),
    comment=_comment(None),
)
#: The policy document, as every policy response renders it.
PolicyOut: type[BaseModel] = create_model("PolicyOut", **_fields(lambda f: (f.wire_type, ...), SHOWN))
PolicyList: type[BaseModel] = create_model(
    "PolicyList", items=(_list_of(PolicyOut), ...), next_page_token=(str | None, ...)
)
