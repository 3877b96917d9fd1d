"""The ``environment`` point: its input model (400s naming the field) and selection by attachment."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from policyhub.errors import InvalidInput, NotFound
from policyhub.evaluation.compiled import BrokenPolicy
from policyhub.evaluation.inputs.environment import ENVIRONMENT, EnvironmentInput, attachments
from policyhub.evaluation.snapshot import Entry, OrgSnapshot
from policyhub.storage.repositories.resources import Resource
from tests.policy_types.helpers import error_map
from tests.policy_types.kosli.evaluate_support import FP_A, SCHEMA, artifact, att, policy_record, trail


def parse(data: Any) -> EnvironmentInput:
    parsed = ENVIRONMENT.parse(data)
    assert isinstance(parsed, EnvironmentInput)
    return parsed


# -- input ----------------------------------------------------------------------------------------
def test_a_full_input_parses() -> None:
    data = {"environment": "prod", "artifacts": [artifact("backend", FP_A, trail("ci", "t1", True, att("ut")))]}
    parsed = parse(data)
    assert parsed.artifacts[0].trails[0].attestations[0].type == "junit"
    assert parse({}).artifacts == []


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"artifacts": [{"name": "x"}]}, "input.artifacts.0.fingerprint", "field required"),
        ({"artifacts": [artifact("x", "abc")]}, "input.artifacts.0.fingerprint", "should match pattern"),
        ({"artifacts": [artifact("x", FP_A.upper())]}, "input.artifacts.0.fingerprint", "should match pattern"),
        ({"artifacts": [artifact("x", FP_A, {"name": "t"})]}, "input.artifacts.0.trails.0.flow", "field required"),
        (
            {"artifacts": [artifact("x", FP_A, trail("ci", "t", True, att("a", "junt")))]},
            "input.artifacts.0.trails.0.attestations.0.type",
            "unknown attestation type 'junt'",
        ),
        (
            {"artifacts": [artifact("x", FP_A, trail("ci", "t", True, {"name": "a", "type": "junit"}))]},
            "input.artifacts.0.trails.0.attestations.0.compliant",
            "field required",
        ),
        (
            {"artifacts": [artifact("x", FP_A, trail("ci", "t", "yes"))]},  # type: ignore[arg-type]
            "input.artifacts.0.trails.0.compliant",
            "valid boolean",
        ),
        ({"artifacts": [{**artifact("x", FP_A), "flow": "ci"}]}, "input.artifacts.0.flow", "unknown field"),
        ({"environment": ""}, "input.environment", "at least 1 character"),
        ({"artifacts": {}}, "input.artifacts", "valid list"),
    ],
)
def test_bad_input_names_the_field(data: dict[str, Any], field: str, message: str) -> None:
    errors = error_map(lambda: ENVIRONMENT.parse(data))
    assert field in errors, errors
    assert message in errors[field]


def test_pull_request_spelling_is_normalised() -> None:
    parsed = parse({"artifacts": [artifact("x", FP_A, trail("ci", "t", True, att("pr", "pull-request")))]})
    assert parsed.artifacts[0].trails[0].attestations[0].type == "pull_request"


def test_input_must_be_an_object() -> None:
    assert error_map(lambda: ENVIRONMENT.parse([1])) == {"input": "must be a JSON object"}


# -- selection ------------------------------------------------------------------------------------
def _resource(key: str, policy_ids: object) -> Resource:
    now = datetime.now(UTC)
    return Resource(f"env-{key}", "org-1", "kosli.environment", key, {"policy_ids": policy_ids}, now, "u", now, "u")


def _snapshot(resources: list[Resource], *policies: tuple[str, str, str]) -> OrgSnapshot:
    """``policies``: (id, name, point) entries added to the snapshot."""
    snapshot = OrgSnapshot("org-1", 1, [], resources)
    for policy_id, name, point in policies:
        record = policy_record(SCHEMA, name=name, policy_id=policy_id)
        snapshot.add(Entry(record, BrokenPolicy(record, "selection only: never evaluated"), point))
    return snapshot


def test_selects_the_attached_policies_in_attachment_order() -> None:
    snapshot = _snapshot(
        [_resource("prod", ["p2", "gone", "p1", "other-point"]), _resource("dev", []), _resource("odd", "p1")],
        ("p1", "one", "environment"),
        ("p2", "two", "environment"),
        ("p3", "three", "environment"),
        ("other-point", "four", "http_request"),
    )
    prod = ENVIRONMENT.select(snapshot, None, parse({"environment": "prod"}))
    assert [e.policy.name for e in prod] == ["two", "one"]  # gone (archived/disabled) and other points skipped
    assert ENVIRONMENT.select(snapshot, None, parse({"environment": "dev"})) == []
    assert ENVIRONMENT.select(snapshot, None, parse({"environment": "odd"})) == []  # malformed: nothing attached
    with pytest.raises(NotFound, match="environment 'staging' not found"):
        ENVIRONMENT.select(snapshot, None, parse({"environment": "staging"}))


def test_without_an_environment_selection_is_by_scope() -> None:
    snapshot = _snapshot([_resource("prod", ["p1"])], ("p1", "one", "environment"), ("p2", "two", "environment"))
    assert [e.policy.name for e in ENVIRONMENT.select(snapshot, None, parse({}))] == ["one", "two"]


def test_the_attachment_index_is_built_once_per_snapshot() -> None:
    snapshot = _snapshot([_resource("prod", ["p1"])], ("p1", "one", "environment"))
    first = attachments(snapshot, "environment")
    assert attachments(snapshot, "environment") is first
    assert first == {"prod": (snapshot.entry("p1"),)}
    assert attachments(snapshot, "http_request") == {"prod": ()}  # each point its own index
    fresh = _snapshot([_resource("prod", [])], ("p1", "one", "environment"))
    assert attachments(fresh, "environment") == {"prod": ()}


def test_bad_query_is_invalid_input_not_a_crash() -> None:
    with pytest.raises(InvalidInput):
        ENVIRONMENT.parse({"artifacts": [None]})
