"""Every policy type Apinizer documents is accepted, round-trips its own examples and is versioned (issue 16).

The examples are in documented_examples.yaml, each citing its page of Apinizer's Management API docs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from policyhub.policy_types.apinizer import APINIZER_TYPES, EVALUATED_TYPES
from policyhub.policy_types.apinizer.stored import NOT_ADDABLE, STORED_TYPES

from .helpers import Apinizer

EXAMPLES: list[dict[str, Any]] = yaml.safe_load((Path(__file__).parent / "documented_examples.yaml").read_text())
#: The 43 types of Apinizer's policy reference (02-api-reference/05-policies/policies/index.md).
DOCUMENTED = {
    *(f"policy-auth-{t}" for t in ("basic", "clear-text", "digest", "jwt", "oauth2", "mtls")),
    *("policy-oidc", "policy-api-authentication", "policy-saml-validation"),
    *(f"policy-ws-security-{t}" for t in ("encrypt", "decrypt", "sign", "sign-validation", "username")),
    *(f"policy-ws-security-{t}" for t in ("timestamp", "from-target", "to-target")),
    *("policy-jose-validation", "policy-jose-implementation", "policy-digital-sign"),
    *("policy-digital-sign-verification", "policy-encryption", "policy-decryption"),
    *("policy-api-based-throttling", "policy-api-based-quota", "policy-client-ban", "policy-white-ip"),
    *("policy-black-ip", "policy-json-transformation", "policy-xml-transformation"),
    *("policy-request-protocol-transformation", "policy-response-protocol-transformation"),
    *("policy-json-schema-validation", "policy-xml-schema-validation", "policy-max-message-size"),
    *("policy-min-message-size", "policy-content-filter", "policy-redaction", "policy-script", "policy-api-call"),
    *("policy-time-restriction", "policy-business-rule", "policy-group"),
}


def _gave(expected: Any, actual: Any, where: str) -> None:
    """Every non-null value given comes back equal (objects may gain defaults; lists keep length)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: {actual!r}"
        for key, value in expected.items():
            if value is not None:
                assert key in actual, f"{where}.{key} missing"
                _gave(value, actual[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), f"{where}: {actual!r}"
        for index, (e, a) in enumerate(zip(expected, actual, strict=True)):
            _gave(e, a, f"{where}[{index}]")
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


def test_every_documented_type_is_known() -> None:
    assert len(DOCUMENTED) == 43
    assert set(APINIZER_TYPES) | set(NOT_ADDABLE) == DOCUMENTED
    assert len(APINIZER_TYPES) == 41 and len(STORED_TYPES) == 17
    assert {e["type"] for e in EXAMPLES} == set(APINIZER_TYPES)
    assert {e["type"] for e in EXAMPLES if e["stored_only"]} == set(STORED_TYPES)
    assert EVALUATED_TYPES.isdisjoint(STORED_TYPES)


def _case_id(example: dict[str, Any]) -> str:
    return f"{example['type']}@line{example['source'].rsplit('line ', 1)[1].rstrip(')')}"


@pytest.mark.parametrize("example", EXAMPLES, ids=[_case_id(e) for e in EXAMPLES])
def test_documented_example_round_trips_and_is_versioned(api: Apinizer, example: dict[str, Any]) -> None:
    policy = example["policy"]
    r = api.add("doc-example", policy)
    assert r.status_code == 200, (example["source"], r.text)
    (listed,) = api.listing()["requestPolicyList"]
    assert listed["type"] == example["type"] and listed["name"] == "doc-example"
    _gave(policy, listed, "policy")

    r = api.update("doc-example", {**policy, "description": "second version", "active": False})
    assert r.status_code == 200, r.text
    core = api.core("doc-example")
    assert core["type"] == "apinizer." + example["type"] and core["enabled"] is False
    versions = api.org.get(f"policies/{core['id']}/versions")
    assert versions.status_code == 200, versions.text
    listed_versions = versions.json()
    items = listed_versions["items"] if isinstance(listed_versions, dict) else listed_versions  # paginated or not
    assert [v["version"] for v in items] in ([1, 2], [2, 1])


def test_a_stored_only_type_refuses_unknown_fields_and_wrong_types(api: Apinizer) -> None:
    oidc = next(e["policy"] for e in EXAMPLES if e["type"] == "policy-oidc")
    r = api.add("oidc", {**oidc, "clientIdd": "typo"})
    assert r.status_code == 400, r.text
    assert "policy.clientIdd" in {e["field"] for e in r.json()["validation_errors"]}
    r = api.add("oidc", {**oidc, "enablePKCE": "yes"})
    assert r.status_code == 400 and "policy.enablePKCE" in {e["field"] for e in r.json()["validation_errors"]}
    r = api.add("oidc", {k: v for k, v in oidc.items() if k != "issuer"})
    assert r.status_code == 400 and "policy.issuer" in {e["field"] for e in r.json()["validation_errors"]}


def test_a_stored_only_type_never_takes_part_in_decisions(api: Apinizer) -> None:
    ban = next(e["policy"] for e in EXAMPLES if e["type"] == "policy-client-ban")
    assert api.add("ban", ban).status_code == 200
    r = api.org.post("decisions", json={"point": "http_request", "scope": "MyProject/MyAPI", "input": {}})
    assert r.status_code == 200, r.text
    assert r.json()["decision"] == "allow" and r.json()["results"] == []


@pytest.mark.parametrize("type_name", sorted(NOT_ADDABLE))
def test_protocol_transformations_cannot_be_added_as_apinizer_says(api: Apinizer, type_name: str) -> None:
    r = api.add("transform", {"type": type_name, "description": "x", "active": True})
    assert r.status_code == 400, r.text
    assert r.json()["validation_errors"] == [{"field": "policy.type", "message": NOT_ADDABLE[type_name]}]
