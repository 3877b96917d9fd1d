"""The one declaration of a policy's fields, from which the rest is derived.

Each :class:`PolicyField` says how one field of a policy is stored, shown and set: its column in the
``policies`` table (``storage/tables.py`` builds the columns from it, and the policy repository maps rows
to records and back with it), its key in the policy document (``domain.policy_document`` renders the
document and validates what clients write with it), who may set it, and how the ``/v1`` API documents it
(``http/v1/policy_models.py`` builds the request and response models from it).

:class:`~policyhub.domain.records.Policy` stays the typed record that code reads attributes of; importing
this module checks that it has exactly these fields, with these types.

Adding a field: declare it in :data:`POLICY_FIELDS` (where it goes is its place in the document), add the
attribute to ``Policy`` (at the end, with a default, if code outside builds records field by field), and
write a migration that adds the column. Everything else follows: the table, the row mapping, the one
change statement, the document, its validation, the audit events (a field that is not ``versioned`` is
metadata: its changes are recorded in ``metadata_update`` events), the API models and the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import Enum, StrEnum
from types import NoneType, UnionType
from typing import Any, Literal, get_args, get_type_hints

from pydantic import Field

from policyhub.domain import names
from policyhub.domain.canonical import iso
from policyhub.domain.records import Enforcement, Policy

#: The kinds of column a field can be stored in (``storage/tables.py`` maps each to a SQL type).
ColumnKind = Literal["id", "string", "text", "json", "boolean", "integer", "timestamp"]


class Writes(StrEnum):
    """Who sets a field."""

    #: The server: a write may repeat the stored value, nothing else (a 400 says what to do instead).
    NEVER = "never"
    #: The client, when it creates the policy (POST, or a PUT that creates); the server afterwards.
    AT_CREATION = "at_creation"
    #: The client, on create, replace (PUT) and patch (PATCH); omitted on create or replace: the default.
    ALWAYS = "always"


@dataclass(frozen=True)
class Stored:
    """A field's column in ``policies`` (named as the field)."""

    kind: ColumnKind
    #: The length of a ``string`` column.
    size: int | None = None
    #: A foreign key, ``"table.column"``.
    references: str | None = None
    #: Set when the row is inserted, never by an update.
    insert_only: bool = False
    primary_key: bool = False


_REQUIRED: Any = object()


@dataclass(frozen=True)
class PolicyField:
    """One field of a policy. Its column and attribute are named ``name``; nullable when ``type`` admits None."""

    name: str
    #: The attribute's type in :class:`Policy` (an ``Enum`` is shown and stored as its value).
    type: Any
    #: The column; None: the value is not a column of ``policies`` (``scope_path`` is the scope's path).
    column: Stored | None
    writes: Writes = Writes.NEVER
    #: Its key in the policy document (by default its name); None: not shown.
    key: str | None = ""
    #: Content kept in each version (a change makes a new version); otherwise a change is metadata.
    versioned: bool = False
    #: What a create or replace that omits the field gives it (``default_factory`` for mutable values);
    #: a field with neither is required on create.
    default: Any = _REQUIRED
    default_factory: Callable[[], Any] | None = None
    #: Pydantic ``Field`` bounds the service checks a written value against (e.g. ``max_length``).
    limits: Mapping[str, Any] = field(default_factory=dict)
    #: The service's own check of a written value (after ``limits``): returns it normalised, or raises
    #: ``InvalidInput`` naming the field. Run in field order, so the first bad field is the one reported.
    check: Callable[[Any], Any] | None = None
    #: Stored or written value -> the record's (e.g. a JSON object that may be stored as null).
    load: Callable[[Any], Any] | None = None
    #: Documentation: in the create body (POST), with ``documented`` (Field bounds and pattern shown there).
    description: str = ""
    documented: Mapping[str, Any] = field(default_factory=dict)
    #: Documentation in the replace body (PUT), which lists every field as optional.
    put_description: str = ""
    #: For a server-owned field: how a client changes it instead (the 400 says so).
    how_instead: str = ""

    #: The record's value -> the column's, and -> the document's (None: the same value).
    dump: Callable[[Any], Any] | None = field(init=False, default=None)
    show: Callable[[Any], Any] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        derived: dict[str, Any] = {}
        if self.key == "":
            derived["key"] = self.name
        if self.enum is not None:
            derived.update(dump=_enum_value, show=_enum_value, load=self.load or self.enum)
        elif self.column is not None and self.column.kind == "timestamp":
            derived["show"] = _iso
        elif self.column is not None and self.column.kind == "boolean":
            derived["load"] = self.load or bool
        for name, value in derived.items():
            object.__setattr__(self, name, value)

    @property
    def nullable(self) -> bool:
        return isinstance(self.type, UnionType) and NoneType in get_args(self.type)

    @property
    def enum(self) -> type[Enum] | None:
        return self.type if isinstance(self.type, type) and issubclass(self.type, Enum) else None

    @property
    def wire_type(self) -> Any:
        """The type of the field's value in the document (JSON): an enum's values as a ``Literal``."""
        enum = self.enum
        return Literal[tuple(member.value for member in enum)] if enum is not None else self.type

    @property
    def input_type(self) -> Any:
        """The type a client may write: the document's, and null when that is the default (``spec`` may be
        omitted when ``source`` is given)."""
        if self.default is None and not self.nullable:
            return self.wire_type | None
        return self.wire_type

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED and self.default_factory is None

    def default_value(self) -> Any:
        """The default (a fresh object when it is mutable)."""
        return self.default_factory() if self.default_factory is not None else self.default

    def defaults(self) -> dict[str, Any]:
        """Pydantic ``Field`` arguments for the default (none when required)."""
        if self.default_factory is not None:
            return {"default_factory": self.default_factory}
        return {} if self.required else {"default": self.default}


def _enum_value(value: Enum) -> Any:
    return value.value


def _iso(value: datetime | None) -> str | None:
    return iso(value) if value is not None else None


def _object(value: Any) -> dict[str, Any]:
    return dict(value or {})


DESCRIPTION_MAX = 4096


def _description(value: str) -> str:
    return names.check_text("description", value, max_len=DESCRIPTION_MAX, allow_newlines=True)


_SET_AT_CREATION = "the {} is fixed at creation; "
_ARCHIVE_INSTEAD = "use DELETE to archive and POST .../unarchive to restore"
POLICY_FIELDS: tuple[PolicyField, ...] = (
    PolicyField("id", str, Stored("id", insert_only=True, primary_key=True),
        how_instead="the id is assigned at creation"),
    PolicyField("org_id", str, Stored("id", references="orgs.id", insert_only=True), key=None),
    PolicyField("scope_id", str | None, Stored("id", references="scopes.id"), key=None),
    PolicyField("name", str, Stored("string", 128), Writes.ALWAYS,
        limits={"min_length": 1, "max_length": names.NAME_MAX}, check=names.policy_name,
        documented={"min_length": 1, "max_length": names.NAME_MAX, "pattern": names.NAME_PATTERN.pattern},
        put_description="omitted: kept. PUT to a policy by name never renames (another name is a 400): PATCH "
        '{"name": "new"} renames; PUT by id replaces the name too'),
    PolicyField("description", str, Stored("text"), Writes.ALWAYS, default="", limits={"max_length": DESCRIPTION_MAX},
        check=_description),
    PolicyField("type", str, Stored("string", 96), Writes.AT_CREATION,
        description="a policy type from GET /v1/policy-types",
        put_description="required when the PUT creates the policy",
        how_instead=_SET_AT_CREATION.format("type") + "create a new policy of the other type"),
    PolicyField("scope_path", str | None, None, Writes.AT_CREATION, key="scope", default=None,
        description="scope path such as 'payments/api'; null: org level",
        how_instead=_SET_AT_CREATION.format("scope") + "create the policy in the other scope and archive this one"),
    PolicyField("spec", dict[str, Any], Stored("json"), Writes.ALWAYS, versioned=True, default=None,
        description="type-specific content (or give source)"),
    PolicyField("source", str | None, Stored("text"), Writes.ALWAYS, versioned=True, default=None,
        description="source text (e.g. YAML) for types that have one"),
    PolicyField("enforcement", Enforcement, Stored("string", 8), Writes.ALWAYS, default="enforce"),
    PolicyField("enabled", bool, Stored("boolean"), Writes.ALWAYS, default=True),
    PolicyField("labels", dict[str, str], Stored("json"), Writes.ALWAYS, default_factory=dict, check=names.labels,
        load=_object),
    PolicyField("attributes", dict[str, Any], Stored("json"), Writes.ALWAYS, default_factory=dict, load=_object),
    PolicyField("revision", int, Stored("integer"),
        how_instead="the revision is assigned by the server; use If-Match for preconditions"),
    PolicyField("version", int, Stored("integer"),
        how_instead="versions are created by changing spec; use POST .../rollback to restore an old one"),
    PolicyField("created_at", datetime, Stored("timestamp", insert_only=True)),
    PolicyField("created_by", str, Stored("id", insert_only=True)),
    PolicyField("updated_at", datetime, Stored("timestamp")),
    PolicyField("updated_by", str, Stored("id")),
    PolicyField("archived", bool, Stored("boolean"), how_instead=_ARCHIVE_INSTEAD),
    PolicyField("archived_at", datetime | None, Stored("timestamp"), how_instead=_ARCHIVE_INSTEAD),
)  # fmt: skip

# -- views of the declaration ------------------------------------------------------------------------
#: The fields stored in ``policies``, in column order.
COLUMNS = tuple(f for f in POLICY_FIELDS if f.column is not None)
#: The fields in the document, in its key order.
SHOWN = tuple(f for f in POLICY_FIELDS if f.key is not None)
#: The fields a client may write on create, replace and patch.
EDITABLE = tuple(f for f in POLICY_FIELDS if f.writes is Writes.ALWAYS)
#: (name, check) of the editable fields the service checks itself (``PolicyField.check``), in field order.
CHECKED = tuple((f.name, f.check) for f in EDITABLE if f.check is not None)
#: The fields a client gives when it creates a policy: those that identify it first (its name, type and
#: scope), then the others in document order.
_FIRST = ("name", "type", "scope_path")
AT_CREATION = tuple(
    sorted(
        (f for f in POLICY_FIELDS if f.writes is not Writes.NEVER),
        key=lambda f: _FIRST.index(f.name) if f.name in _FIRST else len(_FIRST),
    )
)
#: Document keys the server owns: a write may repeat them only with their stored value.
SERVER_OWNED = tuple(f.key for f in SHOWN if f.key is not None and f.writes is not Writes.ALWAYS)


def validated(declared: Iterable[PolicyField]) -> dict[str, Any]:
    """Pydantic field definitions that validate what a client writes to the ``declared`` fields."""
    return {f.name: (f.input_type, Field(**f.defaults(), **f.limits)) for f in declared}


def check_record(record: type, declared: Sequence[PolicyField]) -> None:
    """``record`` (a dataclass) has exactly the ``declared`` fields, with their types; else a TypeError."""
    hints = get_type_hints(record)
    types = {f.name: f.type for f in declared}
    attributes = {f.name for f in fields(record)}
    if attributes != set(types):
        missing, extra = sorted(set(types) - attributes), sorted(attributes - set(types))
        raise TypeError(f"{record.__name__} differs from its declaration: missing {missing}, undeclared {extra}")
    wrong = sorted(name for name in attributes if hints[name] != types[name])
    if wrong:
        raise TypeError(f"{record.__name__} types {wrong} otherwise than its declaration")


check_record(Policy, POLICY_FIELDS)
