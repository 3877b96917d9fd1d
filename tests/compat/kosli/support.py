"""Helpers for the Kosli dialect tests: multipart PUTs, schema validation against Kosli's OpenAPI document."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from tests.conftest import OrgClient
from tests.policy_types.kosli_data import DOCS_EXAMPLE

HERE = Path(__file__).parent
#: The OpenAPI document of Kosli's ``PUT /policies/{org}`` seed page (a copy of the shared reference).
OPENAPI = HERE / "kosli-openapi.yaml"
VALIDATION_ERROR = "fastapi_app__errors__ValidationErrorResponse___locals___ValidationErrorResponseModel__10"

#: The policy YAML of the seed page's ``PolicyResponse`` example.
SEED_YAML = """_schema: https://kosli.com/schemas/policy/environment/v1

artifacts:
  provenance:
    required: false"""

#: The docs' full example (kosli-dev/docs ``environment_policy.mdx``, paraphrased in vendor-apis.md 1.5).
FULL_YAML = DOCS_EXAMPLE


@cache
def components() -> dict[str, Any]:
    doc = yaml.safe_load(OPENAPI.read_text())
    return dict(doc["components"])


def validator(component: str) -> Draft202012Validator:
    """A JSON Schema validator for one of the document's component schemas (refs resolve in the document)."""
    schema = {"$ref": f"#/components/schemas/{component}", "components": components()}
    return Draft202012Validator(schema)


def assert_valid(component: str, instance: Any) -> None:
    errors = sorted(validator(component).iter_errors(instance), key=lambda e: list(e.path))
    assert not errors, f"{component}: " + "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


def policy_url(org: OrgClient, name: str | None = None, slug: str | None = None) -> str:
    base = f"/api/v2/policies/{slug or org.slug}"
    return f"{base}/{name}" if name else base


def put_policy(
    org: OrgClient,
    payload: dict[str, Any] | str,
    policy_yaml: str | bytes | None = None,
    *,
    token: str | None = None,
    filename: str = "policy.yaml",
    slug: str | None = None,
) -> Any:
    """``PUT /api/v2/policies/{org}`` as the Kosli CLI sends it: a plain ``payload`` field and a file part."""
    files: dict[str, Any] = {"payload": (None, payload if isinstance(payload, str) else json.dumps(payload))}
    if policy_yaml is not None:
        data = policy_yaml.encode() if isinstance(policy_yaml, str) else policy_yaml
        files["policy_file"] = (filename, data, "application/octet-stream")
    return org.request("PUT", policy_url(org, slug=slug), files=files, token=token)


def create(org: OrgClient, name: str, policy_yaml: str = SEED_YAML, **payload: Any) -> dict[str, Any]:
    r = put_policy(org, {"name": name, **payload}, policy_yaml)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def env(org: OrgClient, name: str, env_type: str = "K8S", **fields: Any) -> dict[str, Any]:
    r = org.request(
        "PUT", f"/api/v2/environments/{org.slug}", json={"name": name, "type": env_type, "description": "", **fields}
    )
    assert r.status_code in (200, 201), r.text
    body: dict[str, Any] = r.json()
    return body


def attach(org: OrgClient, env_name: str, *names: str, method: str = "POST", token: str | None = None) -> Any:
    url = f"/api/v2/environments/{org.slug}/{env_name}/policies"
    return org.request(method, url, json={"policy_names": list(names)}, token=token)


def core_id(org: OrgClient, name: str) -> str:
    r = org.get(f"policies/{name}")
    assert r.status_code == 200, r.text
    return str(r.json()["id"])
