"""Unit tests of the dialect's pure parts: YAML positions, event mapping, attachment lists, error bodies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from policyhub.domain.records import Event
from policyhub.errors import FieldError, InvalidInput
from policyhub.http.compat.kosli import envs
from policyhub.http.compat.kosli.errors import error_body, too_large_message
from policyhub.http.compat.kosli.translate import event_out, file_errors
from policyhub.http.compat.kosli.yaml_marks import locate

SOURCE = """_schema: https://kosli.com/schemas/policy/v1
artifacts:
  attestations:
    - name: a
      type: snyk
    - name: b
      type: bogus
"""


@pytest.mark.parametrize(
    ("path", "where"),
    [
        (["artifacts", "attestations", "1", "type"], (7, 7)),
        (["artifacts", "attestations", "1"], (6, 7)),
        (["artifacts", "missing"], (2, 1)),
        (["artifacts", "attestations", "9"], (3, 3)),
        ([], (1, 1)),
    ],
)
def test_locate_points_at_the_node_or_its_nearest_ancestor(path: list[str], where: tuple[int, int]) -> None:
    assert locate(SOURCE, path) == where


def test_locate_gives_up_on_unparsable_text() -> None:
    assert locate("a: [", ["a"]) is None
    assert locate("", ["a"]) is None


def test_file_errors_are_addressed_to_the_policy_file() -> None:
    exc = InvalidInput(
        "bad",
        [
            FieldError("source", "invalid YAML"),
            FieldError("spec.artifacts.attestations.1.type", "unknown attestation type"),
            FieldError("name", "taken"),
        ],
    )
    fields = {e.field: e.message for e in file_errors(exc, SOURCE).errors}
    assert fields == {
        "policy_file": "invalid YAML",
        "policy_file.artifacts.attestations.1.type": "line 7, column 7: unknown attestation type",
        "name": "taken",
    }


def _event(kind: str, data: dict[str, Any]) -> Event:
    return Event("org", 1, "policy", "p", kind, "u1", "Ann", datetime(2024, 1, 1, tzinfo=UTC), data)


@pytest.mark.parametrize(
    ("core", "kosli"),
    [
        ("creation", "creation"),
        ("metadata_update", "metadata_update"),
        ("new_version", "new_version"),
        ("renaming", "renaming"),
        ("archiving", "archiving"),
        ("rollback", "new_version"),
        ("unarchiving", "metadata_update"),
    ],
)
def test_core_events_map_to_kosli_types(core: str, kosli: str) -> None:
    out = event_out(_event(core, {"version": 2}))
    assert out is not None
    assert (out.type, out.user, out.timestamp) == (kosli, "Ann", 1704067200.0)


def test_creation_data_is_trimmed_and_unknown_events_are_dropped() -> None:
    out = event_out(_event("creation", {"name": "n", "type": "kosli.environment", "scope": None, "version": 1}))
    assert out is not None and out.data == {"version": 1}
    assert event_out(_event("something_else", {})) is None


def test_attach_and_detach_keep_order_and_never_duplicate() -> None:
    assert envs.attach(["a", "b"], ["b", "c"]) == ["a", "b", "c"]
    assert envs.detach(["a", "b", "c"], ["b", "x"]) == ["a", "c"]


def test_included_environments_rules() -> None:
    known = {"aws": "ECS", "prod": "logical"}
    envs.check_included("logical", ["aws"], known)
    envs.check_included("K8S", [], known)
    for env_type, included in [("K8S", ["aws"]), ("logical", ["nope"]), ("logical", ["prod"])]:
        with pytest.raises(InvalidInput):
            envs.check_included(env_type, included, known)


def test_error_body_joins_messages_for_the_same_field() -> None:
    exc = InvalidInput("x", [FieldError("name", "too long"), FieldError("name", "bad pattern")])
    assert error_body(exc) == {
        "message": "Input payload validation failed",
        "errors": {"name": "too long; bad pattern"},
    }
    assert error_body(InvalidInput("plain")) == {"message": "plain"}


def test_too_large_message_follows_the_core_limit() -> None:
    assert too_large_message(10 * 1024 * 1024) == "File size exceeds 10MB limit"
    assert "2048 bytes" in too_large_message(2048)
