"""Runs cases.yaml: each case against a fresh org (see the header of cases.yaml for the fixture world)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import OrgClient

from .conftest import SyftSpace

CASES: list[dict[str, Any]] = yaml.safe_load((Path(__file__).parent / "cases.yaml").read_text(encoding="utf-8"))


def _world(ss: SyftSpace, other: SyftSpace) -> dict[str, str]:
    """The objects every case may refer to, by placeholder name."""
    org = ss.org
    main = ss.endpoint("main", "Main endpoint")
    second = ss.endpoint("second", "Second endpoint")
    project = org.post("scopes", json={"kind": "project", "key": "research"})
    assert project.status_code == 201, project.text
    rate = ss.policy(main["id"], configuration={"limit": "100/m", "scope": "global", "applied_to": ["*@openmined.org"]})
    access = ss.policy(main["id"], "Access list", "access", {"allowed_users": ["*@openmined.org"]})
    other_endpoint = other.endpoint("main")
    other_policy = other.policy(other_endpoint["id"])
    return {
        "org_slug": org.slug,
        "org_id": org.org_id,
        "endpoint_id": main["id"],
        "endpoint2_id": second["id"],
        "project_id": project.json()["id"],
        "policy_id": rate["id"],
        "policy_id_upper": rate["id"].upper(),
        "access_id": access["id"],
        "other_slug": other.org.slug,
        "other_endpoint_id": other_endpoint["id"],
        "other_policy_id": other_policy["id"],
    }


def _fill(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        for key, replacement in names.items():
            value = value.replace("{" + key + "}", replacement)
        return value
    if isinstance(value, list):
        return [_fill(v, names) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, names) for k, v in value.items()}
    return value


def _matches(actual: Any, expected: Any, where: str = "body") -> None:
    """Recursive subset match: objects need the expected members, lists the same length and items."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: expected an object, got {actual!r}"
        for key, value in expected.items():
            assert key in actual, f"{where}.{key} missing in {actual!r}"
            _matches(actual[key], value, f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), f"{where}: {actual!r} != {expected!r}"
        for index, (a, e) in enumerate(zip(actual, expected, strict=True)):
            _matches(a, e, f"{where}[{index}]")
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


def _send(ss: SyftSpace, other: SyftSpace, request: dict[str, Any]) -> Any:
    auth = request.get("auth", "admin")
    kw: dict[str, Any] = {"headers": dict(request.get("headers", {}))}
    if "body" in request:
        kw["json"] = request["body"]
    if "raw" in request:
        kw["content"] = request["raw"].encode()
        kw["headers"]["Content-Type"] = request["content_type"]
    if "follow_redirects" in request:
        kw["follow_redirects"] = request["follow_redirects"]
    path = "/syftspace" + request["path"]
    if auth == "none":
        return ss.org.client.request(request["method"], path, **kw)
    token = {"admin": None, "viewer": ss.org.key("viewer"), "other": other.org.token}[auth]
    return ss.org.request(request["method"], path, token=token, **kw)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case(ss: SyftSpace, other_ss: SyftSpace, org: OrgClient, case: dict[str, Any]) -> None:
    names = _world(ss, other_ss)
    case = _fill(case, names)
    response = _send(ss, other_ss, case["request"])
    expect = case["expect"]
    assert response.status_code == expect["status"], response.text
    if expect["status"] == 307:
        return
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    if "body" in expect:
        _matches(body, expect["body"])
    if "keys" in expect:
        for item in body if isinstance(body, list) else [body]:
            assert set(item) == set(expect["keys"]), item
    if "length" in expect:
        assert len(body) == expect["length"], body
    if "detail" in expect:
        assert body == {"detail": expect["detail"]}
    if "detail_contains" in expect:
        assert isinstance(body["detail"], str) and expect["detail_contains"] in body["detail"], body
    if "errors" in expect:
        assert [[item["type"], item["loc"]] for item in body["detail"]] == expect["errors"], body
        assert all({"type", "loc", "msg", "input"} <= set(item) for item in body["detail"])
