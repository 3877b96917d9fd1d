"""The OpenAPI document tells a newcomer what to send (issue 16, items 4 and 7): each decision point's
``input`` has a schema, each documented example validates against the document's own schemas and is
accepted by the real endpoint, and each policy type says which point evaluates it."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator

from policyhub.http.v1.decision_docs import input_examples
from policyhub.policy_types.registry import default_points, default_registry
from tests.conftest import OrgClient

POINTS = default_points()
DECISIONS = "/v1/orgs/{org}/decisions"


@pytest.fixture(scope="module")
def spec(app_client: TestClient) -> dict[str, Any]:
    r = app_client.get("/openapi.json")
    assert r.status_code == 200
    return dict(r.json())


def _validator(spec: dict[str, Any], component: str) -> Draft202012Validator:
    """A validator for one component schema, its ``$ref``s resolved inside the document."""
    return Draft202012Validator({"$ref": f"#/components/schemas/{component}", "components": spec["components"]})


def _body(spec: dict[str, Any], path: str, method: str = "post") -> dict[str, Any]:
    return dict(spec["paths"][path][method]["requestBody"]["content"]["application/json"])


def _examples(spec: dict[str, Any], path: str, method: str = "post") -> dict[str, Any]:
    return {name: e["value"] for name, e in _body(spec, path, method)["examples"].items()}


def _lenient(point: Any) -> bool:
    """Whether a point's input ignores unknown fields (``authzen``, as AuthZEN requires) or refuses them."""
    return bool(point.input_model.model_config.get("extra") == "ignore")


# -- the schema of each point's input ------------------------------------------------------------------
def test_the_decision_body_is_one_shape_per_point(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    assert _body(spec, DECISIONS)["schema"] == {"$ref": "#/components/schemas/DecisionRequestIn"}
    body = schemas["DecisionRequestIn"]
    assert body["discriminator"]["propertyName"] == "point"
    assert (
        set(body["discriminator"]["mapping"])
        == set(POINTS.names())
        == {
            "http_request",
            "environment",
            "lifecycle_gate",
            "ai_content",
            "authzen",
        }
    )
    assert len(body["oneOf"]) == len(POINTS.names())
    batch_items = schemas["DecisionBatchIn"]["properties"]["requests"]["items"]
    assert batch_items["oneOf"] == body["oneOf"]


@pytest.mark.parametrize("name", POINTS.names())
def test_each_points_input_is_its_input_model(spec: dict[str, Any], name: str) -> None:
    """The document shows the model the point really parses with (not "any object")."""
    schemas = spec["components"]["schemas"]
    model = POINTS.get(name).input_model
    variant = schemas[schemas["DecisionRequestIn"]["discriminator"]["mapping"][name].split("/")[-1]]
    assert variant["properties"]["point"]["const"] == name
    assert variant["properties"]["input"]["$ref"] == f"#/components/schemas/{model.__name__}"
    assert variant["additionalProperties"] is False and {"point", "input"} <= set(variant["required"])
    assert {"scope", "policies", "explain"} <= set(variant["properties"])
    expected = model.model_json_schema(ref_template="#/components/schemas/{model}")
    defs = expected.pop("$defs", {})
    assert schemas[model.__name__] == expected
    for def_name, definition in defs.items():
        assert schemas[def_name] == definition, f"{def_name} in the document is another model's"


@pytest.mark.parametrize("name", POINTS.names())
def test_each_point_has_an_example_that_its_model_and_the_document_accept(spec: dict[str, Any], name: str) -> None:
    point = POINTS.get(name)
    [example] = input_examples(point)
    point.parse(example)
    request = _examples(spec, DECISIONS)[name]
    assert request["point"] == name and request["input"] == example
    validator = _validator(spec, "DecisionRequestIn")
    validator.validate(request)
    # the document's schema can refuse: an unknown input field, or another point's input
    wrong = copy.deepcopy(request)
    wrong["input"]["no_such_field"] = 1
    assert validator.is_valid(wrong) is _lenient(point)  # AuthZEN requires unknown fields to be ignored
    other = next(n for n in POINTS.names() if n != name)
    assert not validator.is_valid({**request, "point": other})


# -- every documented example, sent to the real app, in the order a newcomer would ------------------------
def test_the_documented_examples_are_accepted_by_the_real_endpoints(spec: dict[str, Any], org: OrgClient) -> None:
    base = f"/v1/orgs/{org.slug}"
    examples = {
        path: _examples(spec, f"/v1/orgs/{{org}}/{path}", method)
        for path, method in (
            ("principals", "post"),
            ("keys", "post"),
            ("scopes", "post"),
            ("document-schemas/{name}", "put"),
            ("policies", "post"),
            ("policies/{ref}/rollback", "post"),
            ("decisions", "post"),
            ("decisions/batch", "post"),
        )
    }
    principals = [org.post(f"{base}/principals", json=e) for e in examples["principals"].values()]
    assert [r.status_code for r in principals] == [201, 201], [r.text for r in principals]
    for example in examples["keys"].values():
        assert org.post(f"{base}/keys", json=example).status_code == 400, "a principal_id must be a real one"
    for scope in examples["scopes"].values():
        r = org.post(f"{base}/scopes", json=scope)
        assert r.status_code == 201, r.text
    assert r.json()["path"] == "payments/api"
    for example in examples["keys"].values():
        r = org.post(f"{base}/keys", json={**example, "principal_id": principals[0].json()["id"]})
        assert r.status_code == 201 and r.json()["token"], r.text
    for example in examples["document-schemas/{name}"].values():
        r = org.put(f"{base}/document-schemas/replica-limits", json=example)
        assert r.status_code == 201, r.text
    [policy] = examples["policies"].values()
    r = org.post(f"{base}/policies", json=policy)
    assert r.status_code == 201, r.text
    too_many = org.patch(f"{base}/policies/{policy['name']}", merge={"spec": {"max": 500}})
    assert too_many.status_code == 400 and too_many.json()["errors"][0]["field"].startswith("spec"), "the schema checks"
    assert org.patch(f"{base}/policies/{policy['name']}", merge={"spec": {"max": 5}}).status_code == 200
    for example in examples["policies/{ref}/rollback"].values():
        r = org.post(f"{base}/policies/{policy['name']}/rollback", json=example)
        assert r.status_code == 200 and r.json()["spec"] == policy["spec"] and r.json()["version"] == 3, r.text
    for name, request in examples["decisions"].items():
        r = org.post(f"{base}/decisions", json=request)
        assert r.status_code == 200, (name, r.text)
        assert r.json()["point"] == name and r.json()["decision"] == "allow"
        wrong = copy.deepcopy(request)
        wrong["input"]["no_such_field"] = 1
        r = org.post(f"{base}/decisions", json=wrong)
        if _lenient(POINTS.get(name)):
            assert r.status_code == 200, r.text
        else:
            assert r.status_code == 400 and r.json()["errors"][0]["field"] == "input.no_such_field"
    [batch] = examples["decisions/batch"].values()
    assert len(batch["requests"]) == len(POINTS.names())
    _validator(spec, "DecisionBatchIn").validate(batch)
    r = org.post(f"{base}/decisions/batch", json=batch)
    assert r.status_code == 200 and all("error" not in d for d in r.json()["decisions"]), r.text


def test_the_body_examples_validate_against_their_documented_schemas(spec: dict[str, Any]) -> None:
    for path, component in (
        ("principals", "PrincipalIn"),
        ("keys", "KeyIn"),
        ("scopes", "ScopeIn"),
        ("policies", "PolicyCreate"),
        ("policies/{ref}/rollback", "RollbackIn"),
    ):
        validator = _validator(spec, component)
        for example in _examples(spec, f"/v1/orgs/{{org}}/{path}").values():
            validator.validate(example)
        assert not validator.is_valid({**example, "no_such_field": 1}), component


def test_the_key_and_document_schema_bodies_say_what_newcomers_had_to_guess(spec: dict[str, Any]) -> None:
    keys = spec["paths"]["/v1/orgs/{org}/keys"]["post"]
    assert "POST .../principals" in keys["description"]
    assert "principals" in spec["components"]["schemas"]["KeyIn"]["properties"]["principal_id"]["description"]
    schema_put = spec["paths"]["/v1/orgs/{org}/document-schemas/{name}"]["put"]
    assert '{"schema": ...}' in schema_put["description"]
    assert "parent" in spec["paths"]["/v1/orgs/{org}/scopes"]["post"]["description"]
    rollback = spec["components"]["schemas"]["RollbackIn"]
    assert rollback["required"] == ["version"] and rollback["properties"]["version"]["description"]


# -- which point evaluates each policy type ---------------------------------------------------------------
def test_policy_types_say_which_decision_point_evaluates_them(org: OrgClient) -> None:
    r = org.client.get("/v1/policy-types", headers=org.headers())
    assert r.status_code == 200
    listed = {t["name"]: t["decision_point"] for t in r.json()}
    registry = default_registry()
    assert listed == {t.name: t.decision_point for t in registry}
    assert {
        "syftspace.rate_limit": "http_request",
        "apinizer.policy-api-based-throttling": "http_request",
        "kosli.environment": "environment",
        "jfrog.lifecycle": "lifecycle_gate",
        "flashback.ai": "ai_content",
        "document": None,
        "apinizer.policy-script": None,
    }.items() <= listed.items()
    assert {p for p in listed.values() if p is not None} == set(POINTS.names()), "every point evaluates some type"
    one = org.client.get("/v1/policy-types/kosli.environment", headers=org.headers()).json()
    assert one["decision_point"] == "environment"
