"""The face itself: routes in /openapi.json with real models, and errors in JFrog's shape."""

from __future__ import annotations

from tests.conftest import OrgClient

from .conftest import BASE

ROUTES = {
    "/policies": {"post": ("JFrogPolicyIn", "201", "JFrogPolicyOut"), "get": (None, "200", "JFrogPolicyList")},
    "/policies/{policyId}": {
        "get": (None, "200", "JFrogPolicyOut"),
        "put": ("JFrogPolicyIn", "200", "JFrogPolicyOut"),
        "delete": (None, "204", None),
    },
    "/rules": {"post": ("JFrogRuleIn", "201", "JFrogRuleOut"), "get": (None, "200", "JFrogRuleList")},
    "/rules/{ruleId}": {
        "get": (None, "200", "JFrogRuleOut"),
        "put": ("JFrogRuleIn", "200", "JFrogRuleOut"),
        "delete": (None, "204", None),
    },
    "/templates": {"post": ("JFrogTemplateIn", "201", "JFrogTemplateOut"), "get": (None, "200", "JFrogTemplateList")},
    "/templates/{templateId}": {
        "get": (None, "200", "JFrogTemplateOut"),
        "put": ("JFrogTemplateIn", "200", "JFrogTemplateOut"),
        "delete": (None, "204", None),
    },
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def test_routes_are_in_openapi_with_their_models(org: OrgClient) -> None:
    doc = org.client.get("/openapi.json").json()
    for path, ops in ROUTES.items():
        for method, (request, status, response) in ops.items():
            op = doc["paths"][BASE + path][method]
            if request:
                assert op["requestBody"]["content"]["application/json"]["schema"] == _ref(request)
                assert request in doc["components"]["schemas"]
            if response:
                assert op["responses"][status]["content"]["application/json"]["schema"] == _ref(response)
            else:
                assert status in op["responses"]
            assert op["responses"]["401"]["content"]["application/json"]["schema"] == _ref("JFrogErrors")
    required = doc["components"]["schemas"]["JFrogPolicyIn"]["required"]
    assert set(required) == {"name", "enabled", "mode", "action", "scope", "rule_ids"}


def test_errors_are_json_with_code_message_field(org: OrgClient) -> None:
    r = org.client.get(BASE + "/policies/nope", headers=org.headers())
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"errors": [{"code": "NOT_FOUND", "message": "Policy not found", "field": None}]}


def test_core_paths_keep_their_own_error_shape(org: OrgClient) -> None:
    assert "title" in org.get("policies/nope").json()


def test_oversized_body_is_413_in_jfrog_shape(org: OrgClient) -> None:
    limit = org.container.settings.max_body_bytes
    r = org.client.post(
        BASE + "/policies",
        headers=org.headers({"Content-Type": "application/json"}),
        content=b" " * (limit + 1),
    )
    assert r.status_code == 413
    assert r.json()["errors"][0]["code"] == "PAYLOAD_TOO_LARGE"


def test_encoded_slash_in_a_path_is_400_in_jfrog_shape(org: OrgClient) -> None:
    r = org.client.get(BASE + "/policies/a%2Fb", headers=org.headers())
    assert r.status_code == 400
    assert r.json()["errors"][0]["code"] == "BAD_REQUEST"
