"""Every error under ``/api/v2`` is Kosli's ``{message, errors?}``; the routes are documented in /openapi.json."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from policyhub.http.compat.kosli import schemas
from tests.compat.kosli.support import VALIDATION_ERROR, assert_valid, components, policy_url
from tests.conftest import OrgClient


def assert_kosli_error(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = r.json()
    assert_valid(VALIDATION_ERROR, body)
    assert set(body) <= {"message", "errors"}
    return body


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v2/policies/{org}/missing", 404),
        ("DELETE", "/api/v2/policies/{org}/missing", 405),
        ("POST", "/api/v2/policies/{org}", 405),
        ("GET", "/api/v2/asserts/{org}/fingerprint/abc", 400),  # a route now: a bad fingerprint
        ("GET", "/api/v2/snapshots/{org}/prod/1", 404),
        ("GET", "/api/v2/policies/{org}%2Fx", 400),
        ("PUT", "/api/v2/environments/{org}", 400),
    ],
)
def test_errors_are_in_kosli_shape(org: OrgClient, method: str, path: str, status: int) -> None:
    assert_kosli_error(org.request(method, path.replace("{org}", org.slug)), status)


def test_unauthenticated_is_401_with_a_challenge(org: OrgClient) -> None:
    r = org.client.get(policy_url(org), headers={"Authorization": "Bearer not-a-key"})
    assert_kosli_error(r, 401)
    assert "Bearer" in r.headers["www-authenticate"]


def test_a_bad_content_length_is_answered_in_kosli_shape(org: OrgClient) -> None:
    r = org.put(policy_url(org), content=b"x" * (11 * 1024 * 1024), headers={"Content-Type": "multipart/form-data"})
    assert assert_kosli_error(r, 413) == {"message": "File size exceeds 10MB limit"}


def test_malformed_multipart_is_a_400(org: OrgClient) -> None:
    r = org.put(policy_url(org), content=b"--zz\r\nnot a part", headers={"Content-Type": "multipart/form-data"})
    assert_kosli_error(r, 400)


def test_the_core_api_keeps_its_own_error_shape(org: OrgClient) -> None:
    r = org.post("policies", content=b"x" * (11 * 1024 * 1024), headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert r.headers["content-type"] == "application/problem+json"


def test_routes_are_documented_with_their_models(org: OrgClient) -> None:
    doc = org.client.get("/openapi.json").json()
    paths = doc["paths"]
    put = paths["/api/v2/policies/{org}"]["put"]
    form = put["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["required"] == ["payload"]
    assert form["properties"]["payload"]["$ref"] == "#/components/schemas/KosliPolicyPutInput"
    assert {"200", "201", "400", "413"} <= set(put["responses"])
    assert "delete" not in paths["/api/v2/policies/{org}/{policy_name}"]
    assert set(paths["/api/v2/environments/{org}/{env_name}/policies"]) == {"post", "delete"}
    ours = doc["components"]["schemas"]["KosliPolicyPutInput"]
    kosli = components()["schemas"]["PolicyPutInput"]
    assert ours["properties"]["name"]["pattern"] == kosli["properties"]["name"]["pattern"]
    assert ours["properties"]["type"]["const"] == "env" and ours["additionalProperties"] is False
    assert ours["required"] == ["name"]


def test_our_response_model_matches_kosli_field_for_field() -> None:
    kosli = components()["schemas"]
    pairs: list[tuple[type[BaseModel], str]] = [
        (schemas.KosliPolicyResponse, "PolicyResponse"),
        (schemas.KosliVersionedPolicy, "VersionedPolicy"),
        (schemas.KosliPolicyEvent, "PolicyEvent"),
        (schemas.KosliErrorResponse, "RequestEntityTooLargeResponseModel"),
    ]
    for ours, theirs in pairs:
        assert set(ours.model_fields) == set(kosli[theirs]["properties"]), theirs
        required = {name for name, f in ours.model_fields.items() if f.is_required()}
        assert required == set(kosli[theirs].get("required", [])), theirs
    assert list(schemas.EVENT_TYPES) == kosli["PolicyEvent"]["properties"]["type"]["enum"]


def test_the_documented_payload_example_is_accepted() -> None:
    for example in components()["schemas"]["PolicyPutInput"]["examples"]:
        schemas.KosliPolicyPutInput.model_validate(example)
