"""Runs the data-driven cases in cases.yaml against the real app (both backends)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import OrgClient

from .helpers import BASE, SCRIPT, THROTTLING, Apinizer

CASES: list[dict[str, Any]] = yaml.safe_load((Path(__file__).parent / "cases.yaml").read_text())
BASES = {"throttling": THROTTLING, "script": SCRIPT}


def expand(value: Any) -> Any:
    """Resolve ``{$base: name, ...changes, $drop: [...]}`` policies anywhere in a body."""
    if isinstance(value, list):
        return [expand(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {k: expand(v) for k, v in value.items() if k not in ("$base", "$drop")}
    if "$base" in value:
        out = {**copy.deepcopy(BASES[value["$base"]]), **out}
    for field in value.get("$drop", []):
        out.pop(field, None)
    return out


def _token(case: dict[str, Any], org: OrgClient, other_org: OrgClient) -> str | None:
    kind = case["request"].get("token", "admin")
    return {
        "admin": lambda: org.token,
        "viewer": lambda: org.key("viewer"),
        "invalid": lambda: "phk_this-is-not-a-valid-token-at-all",
        "other-org": lambda: other_org.token,
        "none": lambda: None,
    }[kind]()


def test_cases_have_unique_names() -> None:
    names = [case["name"] for case in CASES]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case(case: dict[str, Any], api: Apinizer, org: OrgClient, other_org: OrgClient) -> None:
    for given in case.get("given", []):
        policy = expand({"$base": given.get("policy", "throttling")})
        r = api.add(given["name"], policy, **given.get("meta", {}))
        assert r.status_code == 200, r.text

    request = case["request"]
    path = request["path"]
    url = path if path.startswith("/") else f"{BASE}/{path}"
    token = _token(case, org, other_org)
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    kwargs: dict[str, Any] = {}
    if "raw" in request:
        kwargs["content"] = request["raw"].encode()
        headers["Content-Type"] = request["content_type"]
    elif "body" in request:
        kwargs["json"] = expand(request["body"])
    response = org.client.request(request["method"], url, headers=headers, **kwargs)

    expect = case["expect"]
    assert response.status_code == expect["status"], response.text
    body = response.json()
    for key, value in expect.get("body", {}).items():
        assert body.get(key) == value, (key, body)
    if "result_items" in expect:  # each resultList item has (at least) the expected members
        items = body["resultList"]
        assert len(items) == len(expect["result_items"]), body
        for item, wanted in zip(items, expect["result_items"], strict=True):
            assert {k: item.get(k, "<absent>") for k in wanted} == wanted, item
    if "object" in expect:  # the body is an object with (at least) these members
        assert {k: body.get(k, "<absent>") for k in expect["object"]} == expect["object"], body
    if expect["status"] >= 400:
        assert set(body) <= {"error", "error_description", "validation_errors"}, body
        assert isinstance(body["error_description"], str) and body["error_description"]
    fields = {e["field"] for e in body.get("validation_errors", [])}
    assert set(expect.get("fields", [])) <= fields, body
