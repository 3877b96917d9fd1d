"""The bundle format: what an environment's agents receive, as plain JSON, and back.

A bundle is one JSON object (``format`` 1)::

    {"format": 1, "org": <org id>, "environment": <name>, "revision": <org head seq when built>,
     "scopes": [<scope item>...], "policies": [<policy item>...], "resources": [<resource item>...]}

Each item carries every field of its domain record (:class:`Policy`, :class:`Scope`, :class:`Resource`),
so an agent rebuilds exactly the records the hub's engine compiles: ``decode_policy(encode_policy(p)) ==
p`` for any policy whose datetimes are UTC (a naive datetime, as SQLite returns them, is read as UTC and
comes back aware). Timestamps are RFC 3339 text (``domain.canonical.iso``, microseconds). Items are
sorted by id, so equal contents give equal canonical JSON, hence an equal content digest
(:func:`bundle_digest`, the strong ETag) and an equal signature (``domain.bundle_signing``).

Decoding checks every field's type and names the bad one (``policies[3].spec: must be an object``): a
bundle comes from the hub and is signed, but an agent must refuse a malformed one clearly, not crash.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from policyhub.domain.canonical import canonical_json, iso, sha256_hex, utc
from policyhub.domain.records import Enforcement, Policy, Resource, Scope

FORMAT = 1

T = TypeVar("T")


class BundleError(ValueError):
    """A bundle or one of its items is malformed; the message names the field."""


@dataclass(frozen=True)
class Bundle:
    """A decoded bundle: the records an environment's agents decide with, at ``revision``."""

    org: str
    environment: str
    revision: int
    scopes: tuple[Scope, ...]
    policies: tuple[Policy, ...]
    resources: tuple[Resource, ...]


# -- encoding -------------------------------------------------------------------------------------------


def _when(value: datetime | None) -> str | None:
    return None if value is None else iso(value)


def encode_scope(scope: Scope) -> dict[str, Any]:
    return {
        "id": scope.id,
        "org_id": scope.org_id,
        "parent_id": scope.parent_id,
        "kind": scope.kind,
        "key": scope.key,
        "name": scope.name,
        "path": scope.path,
        "attributes": scope.attributes,
        "created_at": iso(scope.created_at),
    }


def encode_policy(policy: Policy) -> dict[str, Any]:
    return {
        "id": policy.id,
        "org_id": policy.org_id,
        "scope_id": policy.scope_id,
        "scope_path": policy.scope_path,
        "name": policy.name,
        "description": policy.description,
        "type": policy.type,
        "spec": policy.spec,
        "source": policy.source,
        "enforcement": policy.enforcement.value,
        "enabled": policy.enabled,
        "labels": policy.labels,
        "attributes": policy.attributes,
        "revision": policy.revision,
        "version": policy.version,
        "created_at": iso(policy.created_at),
        "created_by": policy.created_by,
        "updated_at": iso(policy.updated_at),
        "updated_by": policy.updated_by,
        "archived": policy.archived,
        "archived_at": _when(policy.archived_at),
    }


def encode_resource(resource: Resource) -> dict[str, Any]:
    return {
        "id": resource.id,
        "org_id": resource.org_id,
        "kind": resource.kind,
        "key": resource.key,
        "data": resource.data,
        "created_at": iso(resource.created_at),
        "created_by": resource.created_by,
        "updated_at": iso(resource.updated_at),
        "updated_by": resource.updated_by,
    }


def build_bundle(
    *,
    org: str,
    environment: str,
    revision: int,
    scopes: Iterable[Scope],
    policies: Iterable[Policy],
    resources: Iterable[Resource],
) -> dict[str, Any]:
    """The bundle's JSON object; items sorted by id so equal contents give equal canonical text."""
    return {
        "format": FORMAT,
        "org": org,
        "environment": environment,
        "revision": revision,
        "scopes": [encode_scope(s) for s in sorted(scopes, key=lambda s: s.id)],
        "policies": [encode_policy(p) for p in sorted(policies, key=lambda p: p.id)],
        "resources": [encode_resource(r) for r in sorted(resources, key=lambda r: (r.kind, r.id))],
    }


def bundle_digest(bundle: dict[str, Any]) -> str:
    """SHA-256 (hex) of the bundle's canonical JSON: its strong ETag, which changes with the content only."""
    return sha256_hex(canonical_json(bundle))


def content_digest(bundle: dict[str, Any]) -> str:
    """:func:`bundle_digest` of the bundle without its ``revision``: equal for two revisions of the org that
    gave this environment the same items (so an agent with those items need not download them again)."""
    return bundle_digest({k: v for k, v in bundle.items() if k != "revision"})


def item_text(item: dict[str, Any]) -> str:
    """One encoded item's canonical JSON: what :func:`compose` joins (kept per item, so a bundle is written
    again by re-encoding only the items that changed)."""
    return canonical_json(item)


def list_text(texts: Iterable[str]) -> str:
    """The canonical JSON of a list whose items' canonical texts are ``texts`` (in order)."""
    return "[" + ",".join(texts) + "]"


def compose(
    *, org: str, environment: str, revision: int, scopes: str, policies: str, resources: str
) -> tuple[str, str]:
    """``(canonical_json(bundle), its text without the revision)`` of the bundle whose member lists have the
    canonical texts ``scopes``, ``policies`` and ``resources`` (items in :func:`build_bundle`'s order)."""
    members = {
        "environment": canonical_json(environment),
        "format": canonical_json(FORMAT),
        "org": canonical_json(org),
        "policies": policies,
        "resources": resources,
        "revision": canonical_json(revision),
        "scopes": scopes,
    }

    def joined(keys: Iterable[str]) -> str:
        return "{" + ",".join(f"{canonical_json(key)}:{members[key]}" for key in keys) + "}"

    return joined(sorted(members)), joined(k for k in sorted(members) if k != "revision")


def canonical_texts(bundle: dict[str, Any]) -> tuple[str, str]:
    """``(canonical_json(bundle), its text without the revision)``, serialising each member once: what the
    hub signs and what its ETag digests (:func:`content_digest`), for the price of one serialisation."""
    parts = {key: canonical_json(value) for key, value in bundle.items()}

    def joined(keys: Iterable[str]) -> str:
        return "{" + ",".join(f"{canonical_json(key)}:{parts[key]}" for key in keys) + "}"

    ordered = sorted(parts)
    return joined(ordered), joined(k for k in ordered if k != "revision")


# -- decoding -------------------------------------------------------------------------------------------


class _Fields:
    """Typed access to one item's fields, each error naming ``where.field``."""

    def __init__(self, item: Any, where: str) -> None:
        if not isinstance(item, dict):
            raise BundleError(f"{where}: must be an object")
        self.item = item
        self.where = where

    def _get(self, name: str, check: Callable[[Any], bool], what: str, *, optional: bool = False) -> Any:
        if name not in self.item:
            raise BundleError(f"{self.where}.{name}: missing")
        value = self.item[name]
        if value is None and optional:
            return None
        if not check(value):
            raise BundleError(f"{self.where}.{name}: must be {what}{' or null' if optional else ''}")
        return value

    def text(self, name: str) -> str:
        return str(self._get(name, lambda v: isinstance(v, str), "a string"))

    def optional_text(self, name: str) -> str | None:
        value = self._get(name, lambda v: isinstance(v, str), "a string", optional=True)
        return None if value is None else str(value)

    def integer(self, name: str) -> int:
        return int(self._get(name, lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer"))

    def flag(self, name: str) -> bool:
        return bool(self._get(name, lambda v: isinstance(v, bool), "a boolean"))

    def mapping(self, name: str) -> dict[str, Any]:
        return dict(self._get(name, lambda v: isinstance(v, dict), "an object"))

    def labels(self, name: str) -> dict[str, str]:
        found = self.mapping(name)
        if not all(isinstance(v, str) for v in found.values()):
            raise BundleError(f"{self.where}.{name}: values must be strings")
        return found

    def when(self, name: str) -> datetime:
        return _parse_when(self.text(name), f"{self.where}.{name}")

    def optional_when(self, name: str) -> datetime | None:
        value = self.optional_text(name)
        return None if value is None else _parse_when(value, f"{self.where}.{name}")


def _parse_when(text: str, where: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise BundleError(f"{where}: must be an RFC 3339 timestamp") from None
    return utc(parsed)


def decode_scope(item: Any, where: str = "scope") -> Scope:
    f = _Fields(item, where)
    return Scope(
        id=f.text("id"),
        org_id=f.text("org_id"),
        parent_id=f.optional_text("parent_id"),
        kind=f.text("kind"),
        key=f.text("key"),
        name=f.text("name"),
        path=f.text("path"),
        attributes=f.mapping("attributes"),
        created_at=f.when("created_at"),
    )


def decode_policy(item: Any, where: str = "policy") -> Policy:
    f = _Fields(item, where)
    enforcement = f.text("enforcement")
    if enforcement not in {e.value for e in Enforcement}:
        raise BundleError(f"{where}.enforcement: must be one of {', '.join(e.value for e in Enforcement)}")
    return Policy(
        id=f.text("id"),
        org_id=f.text("org_id"),
        scope_id=f.optional_text("scope_id"),
        scope_path=f.optional_text("scope_path"),
        name=f.text("name"),
        description=f.text("description"),
        type=f.text("type"),
        spec=f.mapping("spec"),
        source=f.optional_text("source"),
        enforcement=Enforcement(enforcement),
        enabled=f.flag("enabled"),
        labels=f.labels("labels"),
        attributes=f.mapping("attributes"),
        revision=f.integer("revision"),
        version=f.integer("version"),
        created_at=f.when("created_at"),
        created_by=f.text("created_by"),
        updated_at=f.when("updated_at"),
        updated_by=f.text("updated_by"),
        archived=f.flag("archived"),
        archived_at=f.optional_when("archived_at"),
    )


def decode_resource(item: Any, where: str = "resource") -> Resource:
    f = _Fields(item, where)
    return Resource(
        id=f.text("id"),
        org_id=f.text("org_id"),
        kind=f.text("kind"),
        key=f.text("key"),
        data=f.mapping("data"),
        created_at=f.when("created_at"),
        created_by=f.text("created_by"),
        updated_at=f.when("updated_at"),
        updated_by=f.text("updated_by"),
    )


def _items(bundle: dict[str, Any], name: str, decode: Callable[[Any, str], T]) -> tuple[T, ...]:
    items = bundle.get(name)
    if not isinstance(items, list):
        raise BundleError(f"bundle.{name}: must be an array")
    return tuple(decode(item, f"{name}[{i}]") for i, item in enumerate(items))


def decode_bundle(bundle: Any) -> Bundle:
    """The records of a bundle's JSON object (:class:`BundleError` naming the first bad field)."""
    f = _Fields(bundle, "bundle")
    if bundle.get("format") != FORMAT:
        raise BundleError(f"bundle.format: must be {FORMAT} (got {bundle.get('format')!r})")
    revision = f.integer("revision")
    if revision < 0:
        raise BundleError("bundle.revision: must not be negative")
    return Bundle(
        org=f.text("org"),
        environment=f.text("environment"),
        revision=revision,
        scopes=_items(bundle, "scopes", decode_scope),
        policies=_items(bundle, "policies", decode_policy),
        resources=_items(bundle, "resources", decode_resource),
    )
