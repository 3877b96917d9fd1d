"""Org-supplied JSON Schemas that ``document`` policies name in ``spec["$schema"]``."""

from __future__ import annotations

from typing import Any

from policyhub.domain import names
from policyhub.domain.canonical import now
from policyhub.domain.records import Actor
from policyhub.errors import Conflict, InvalidInput, NotFound
from policyhub.sandbox.json_schema import SchemaRefused, check_schema
from policyhub.services import audit
from policyhub.services.authz import require_org_admin
from policyhub.storage.unit_of_work import UnitOfWork

KIND = "document_schema"


def put(uow: UnitOfWork, actor: Actor, name: str, schema: dict[str, Any]) -> bool:
    """Create or replace a schema (admin); True when created. Existing policies are not re-validated."""
    require_org_admin(actor)
    names.scope_key(name, "name")
    check(schema)
    audit.lock_org(uow, actor.org_id)
    created = uow.schemas.upsert(actor.org_id, name, schema, now())
    kind = "schema_created" if created else "schema_updated"
    audit.record(uow, actor, object_kind=KIND, object_id=name, type=kind, data={"name": name})
    return created


def check(schema: dict[str, Any]) -> None:
    """A 400 naming the field unless ``schema`` is one PolicyHub can run (see ``sandbox.json_schema``)."""
    if len(schema) == 1 and isinstance(schema.get("schema"), dict | bool):
        raise InvalidInput.field(
            "schema",
            'a schema whose only key is "schema" checks nothing (unknown keywords are ignored): '
            'send the JSON Schema itself as the request body, not wrapped in {"schema": ...}',
        )
    try:
        check_schema(schema)
    except SchemaRefused as exc:
        raise InvalidInput.field(".".join(["schema", *map(str, exc.path)]), exc.message) from None


def get(uow: UnitOfWork, actor: Actor, name: str) -> dict[str, Any]:
    schema = uow.schemas.get(actor.org_id, name)
    if schema is None:
        raise NotFound(f"document schema {name!r} not found")
    return schema


def list_all(uow: UnitOfWork, actor: Actor) -> list[tuple[str, dict[str, Any]]]:
    return uow.schemas.list(actor.org_id)


def delete(uow: UnitOfWork, actor: Actor, name: str) -> None:
    """Delete a schema (admin); refused with 409 while live policies name it."""
    require_org_admin(actor)
    audit.lock_org(uow, actor.org_id)
    get(uow, actor, name)
    users = uow.policies.referencing(actor.org_id, KIND, name)
    if users:
        raise Conflict(f"document schema {name!r} is used by policies: {', '.join(users[:10])}")
    uow.schemas.delete(actor.org_id, name)
    audit.record(uow, actor, object_kind=KIND, object_id=name, type="schema_deleted", data={"name": name})
