"""The declaration of a policy's fields is the one source of the table, the record, the document and the
API models: each of them lists exactly the declared fields, and a record that drifts from it is refused."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import create_model

from policyhub.domain.policy_document import SERVER_OWNED, WRITABLE, PolicyFields, to_document
from policyhub.domain.policy_fields import (
    COLUMNS,
    EDITABLE,
    POLICY_FIELDS,
    SHOWN,
    PolicyField,
    Stored,
    Writes,
    check_record,
    validated,
)
from policyhub.domain.records import Enforcement, Policy
from policyhub.http.v1.policy_models import PolicyCreate, PolicyOut, PolicyReplace
from policyhub.storage.repositories.policies import INSERT_ONLY_KEYS, WRITE_KEYS, insert_columns, write_columns
from policyhub.storage.tables import policies
from tests.support.records import policy_record


def test_the_policies_table_has_a_column_for_each_stored_field_as_declared() -> None:
    assert [c.name for c in policies.columns] == [f.name for f in COLUMNS]
    for f in COLUMNS:
        assert policies.c[f.name].nullable == f.nullable, f.name
    assert {fk.target_fullname for fk in policies.c.org_id.foreign_keys} == {"orgs.id"}
    assert [c.name for c in policies.primary_key.columns] == ["id"]
    assert str(policies.c.name.type) == "VARCHAR(128)"


def test_the_document_and_the_api_models_list_the_shown_fields_in_declaration_order() -> None:
    document = to_document(policy_record("document", {"max": 3}, archived_at=None))
    keys = [f.key for f in SHOWN]
    assert list(document) == keys == list(PolicyOut.model_fields)
    assert list(PolicyFields.model_fields) == list(WRITABLE) == [f.name for f in EDITABLE]
    assert set(SERVER_OWNED) | set(WRITABLE) == set(keys)
    assert list(PolicyCreate.model_fields)[:3] == ["name", "type", "scope"]
    assert list(PolicyCreate.model_fields) == list(PolicyReplace.model_fields)
    assert all(not info.is_required() for info in PolicyReplace.model_fields.values())


def test_values_are_converted_where_the_record_type_is_not_the_stored_or_shown_one() -> None:
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    record = policy_record("document", {}, enforcement=Enforcement.WARN, updated_at=at, archived_at=None)
    assert to_document(record)["enforcement"] == "warn"
    assert to_document(record)["updated_at"] == "2026-01-02T03:04:05.000000Z"
    assert to_document(record)["archived_at"] is None
    assert write_columns(record)["enforcement"] == "warn"
    assert list(write_columns(record)) == list(WRITE_KEYS)
    assert list(insert_columns(record)) == [*INSERT_ONLY_KEYS, *WRITE_KEYS]
    assert set(INSERT_ONLY_KEYS) == {"id", "org_id", "created_at", "created_by"}


def test_the_record_matches_the_declaration() -> None:
    check_record(Policy, POLICY_FIELDS)
    assert {f.name for f in fields(Policy)} == {f.name for f in POLICY_FIELDS}


def test_a_record_that_drifts_from_the_declaration_is_refused() -> None:
    @dataclass
    class Thing:
        id: str
        size: int

    declared = (PolicyField("id", str, Stored("id")),)
    with pytest.raises(TypeError, match=r"missing \[\], undeclared \['size'\]"):
        check_record(Thing, declared)
    declared_more = (*declared, PolicyField("size", int, Stored("integer")), PolicyField("owner", str, None))
    with pytest.raises(TypeError, match=r"missing \['owner'\]"):
        check_record(Thing, declared_more)
    with pytest.raises(TypeError, match=r"types \['size'\]"):
        check_record(Thing, (*declared, PolicyField("size", str, Stored("text"))))


def test_a_declared_field_flows_into_the_validation_and_api_shapes() -> None:
    """What a new field gets from its declaration alone (built here, so the real one stays as it is)."""
    owner = PolicyField(
        "owner", str, Stored("string", 200), Writes.ALWAYS, default="", limits={"max_length": 200}, description="who"
    )
    model: Any = create_model("Probe", **validated((*EDITABLE, owner)))
    assert model.model_validate({"name": "p", "owner": "ann"}).owner == "ann"
    assert model.model_json_schema()["properties"]["owner"] == {
        "default": "",
        "maxLength": 200,
        "title": "Owner",
        "type": "string",
    }
    assert owner.key == "owner" and owner.input_type is str and not owner.nullable
