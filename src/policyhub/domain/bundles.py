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

A policy item is derived from the declaration of a policy's fields (``domain.policy_fields.POLICY_FIELDS``,
see :class:`PolicyCodec`): it carries every declared field under its name, converted by its declared type,
so a field added to the declaration travels in bundles with no edit here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from enum import Enum
from operator import attrgetter
from types import NoneType
from typing import Any, Generic, TypeVar, get_args, get_origin

from policyhub.domain.canonical import canonical_json, iso, sha256_hex, utc
from policyhub.domain.policy_fields import POLICY_FIELDS, PolicyField, check_record
from policyhub.domain.records import Policy, Resource, Scope

FORMAT = 1

T = TypeVar("T")
R = TypeVar("R")


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


# -- policies: derived from the declaration of their fields ---------------------------------------------

#: A field's decoder: (the item's value, ``where.field``) -> the record's value, or a BundleError.
_Decode = Callable[[Any, str], Any]


class PolicyCodec(Generic[R]):
    """Encodes ``record`` instances (a dataclass with exactly the ``declared`` fields) into bundle items and
    decodes them back, every field by its declared type.

    An item holds each declared field under its name (``scope_path`` and ``org_id`` too, though the
    document shows them otherwise or not at all), in the record's field order: a datetime as RFC 3339 text
    (``canonical.iso``; a naive one is read as UTC), an Enum as its value, ``str``, ``int``, ``bool`` and
    ``dict`` (``dict[str, str]``: string values) as they are; ``X | None`` also admits null. A type it cannot
    carry is a TypeError when the codec is built (so at import for the declared fields), never a silently
    dropped field.
    """

    def __init__(self, declared: Sequence[PolicyField], record: type[R]) -> None:
        check_record(record, declared)  # exactly the declared fields, with their types
        by_name = {f.name: f for f in declared}
        dataclass_: type = record
        order = tuple(f.name for f in fields(dataclass_))  # the record's order: the items' key order as before
        self.record = record
        self.names = order
        self._values: Callable[[Any], tuple[Any, ...]] = _values_of(order)
        self._encoders = tuple((name, encode) for name in order if (encode := _encoder(by_name[name])) is not None)
        self._decoders = tuple((name, _decoder(by_name[name])) for name in order)

    def encode(self, record: R) -> dict[str, Any]:
        item = dict(zip(self.names, self._values(record), strict=True))
        for name, encode in self._encoders:
            item[name] = encode(item[name])
        return item

    def decode(self, item: Any, where: str = "policy") -> R:
        _Fields(item, where)  # an object, or "<where>: must be an object"
        values: dict[str, Any] = {}
        for name, decode in self._decoders:
            if name not in item:
                raise BundleError(f"{where}.{name}: missing")
            values[name] = decode(item[name], f"{where}.{name}")
        return self.record(**values)


def _values_of(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    get = attrgetter(*names)
    return get if len(names) > 1 else lambda record: (get(record),)


def _base(f: PolicyField) -> tuple[Any, bool]:
    """The field's type without None, and whether None is admitted."""
    if not f.nullable:
        return f.type, False
    rest = [arg for arg in get_args(f.type) if arg is not NoneType]
    if len(rest) != 1:
        raise TypeError(f"bundles cannot carry policy field {f.name!r} of type {f.type}")
    return rest[0], True


def _encoder(f: PolicyField) -> Callable[[Any], Any] | None:
    """Record value -> item value; None: the same value."""
    base, nullable = _base(f)
    convert: Callable[[Any], Any]
    if base is datetime:
        convert = iso
    elif isinstance(base, type) and issubclass(base, Enum):
        convert = _enum_value
    else:
        return None
    return _or_none(convert) if nullable else convert


def _or_none(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else convert(value)


def _enum_value(value: Enum) -> Any:
    return value.value


def _decoder(f: PolicyField) -> _Decode:
    """Item value -> record value, checked; the error names the field and what it must be."""
    base, nullable = _base(f)
    check: Callable[[Any], bool]
    convert: _Decode
    if base is str:
        check, what, convert = _is_str, "a string", _same
    elif base is bool:
        check, what, convert = _is_bool, "a boolean", _same
    elif base is int:
        check, what, convert = _is_int, "an integer", _same
    elif base is datetime:
        check, what, convert = _is_str, "a string", _parse_when
    elif isinstance(base, type) and issubclass(base, Enum):
        check, what, convert = _enum_decoder(base)
    elif (base is dict or get_origin(base) is dict) and get_args(base) in {(), (str, Any)}:
        check, what, convert = _is_dict, "an object", _copy
    elif get_origin(base) is dict and get_args(base) == (str, str):
        check, what, convert = _is_dict, "an object", _string_values
    else:
        raise TypeError(f"bundles cannot carry policy field {f.name!r} of type {f.type}")
    must = f"must be {what}{' or null' if nullable else ''}"

    def decode(value: Any, where: str) -> Any:
        if value is None and nullable:
            return None
        if not check(value):
            raise BundleError(f"{where}: {must}")
        return convert(value, where)

    return decode


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_dict(value: Any) -> bool:
    return isinstance(value, dict)


def _same(value: Any, where: str) -> Any:
    return value


def _copy(value: dict[str, Any], where: str) -> dict[str, Any]:
    return dict(value)


def _string_values(value: dict[str, Any], where: str) -> dict[str, str]:
    if not all(isinstance(v, str) for v in value.values()):
        raise BundleError(f"{where}: values must be strings")
    return dict(value)


def _enum_decoder(enum: type[Enum]) -> tuple[Callable[[Any], bool], str, _Decode]:
    """An enum's value: of its values' type first (a string enum: "must be a string"), then one of them."""
    members = list(enum)
    kinds = {type(m.value) for m in members}
    kind = kinds.pop() if len(kinds) == 1 else None
    one_of = f"must be one of {', '.join(str(m.value) for m in members)}"

    def member(value: Any, where: str) -> Enum:
        for m in members:
            if type(m.value) is type(value) and m.value == value:
                return m
        raise BundleError(f"{where}: {one_of}")

    if kind is str:
        return _is_str, "a string", member
    if kind is int:
        return _is_int, "an integer", member
    return (lambda value: True), "", member


#: The codec of :class:`Policy`, from the declaration of its fields.
POLICY_CODEC = PolicyCodec(POLICY_FIELDS, Policy)


def encode_policy(policy: Policy) -> dict[str, Any]:
    return POLICY_CODEC.encode(policy)


def decode_policy(item: Any, where: str = "policy") -> Policy:
    return POLICY_CODEC.decode(item, where)


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
