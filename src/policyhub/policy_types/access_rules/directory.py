"""The entities a policy knows: the candidates of AuthZEN's Subject, Resource and Action Search.

AuthZEN's Search APIs return the subjects, resources or actions that *would* be permitted. A stateless
policy cannot enumerate "every user", so a policy of the ``access_rules`` or ``rego`` type may list the
entities it knows (``spec.entities``), each with the properties a search evaluates it with. The literal
(glob-free) ids and action names of ``access_rules`` patterns are known too. Bounded: at most
:data:`MAX_ENTITIES` entities of each kind per policy.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictStr

MAX_ENTITIES = 1000
Ident = Annotated[StrictStr, Field(min_length=1, max_length=1024)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class KnownEntity(_Model):
    type: Ident
    id: Ident
    properties: dict[str, Any] = Field(default_factory=dict)


class KnownAction(_Model):
    name: Ident
    properties: dict[str, Any] = Field(default_factory=dict)


class Directory(_Model):
    subjects: list[KnownEntity] = Field(default_factory=list, max_length=MAX_ENTITIES)
    resources: list[KnownEntity] = Field(default_factory=list, max_length=MAX_ENTITIES)
    actions: list[KnownAction] = Field(default_factory=list, max_length=MAX_ENTITIES)


def known(spec: dict[str, Any], kind: str, entity_type: str | None) -> list[dict[str, Any]]:
    """The entities of ``kind`` (``subject``, ``resource``, ``action``) a stored spec lists."""
    directory = spec.get("entities") or {}
    listed = directory.get(f"{kind}s") or []
    if kind == "action":
        return [{"name": a["name"], "properties": a.get("properties") or {}} for a in listed]
    return [
        {"type": e["type"], "id": e["id"], "properties": e.get("properties") or {}}
        for e in listed
        if entity_type is None or e["type"] == entity_type
    ]
