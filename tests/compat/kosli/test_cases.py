"""Runs the data-driven cases of ``cases.yaml`` against the real app (both backends)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.compat.kosli.support import VALIDATION_ERROR, assert_valid
from tests.conftest import OrgClient

CASES_FILE = Path(__file__).with_name("cases.yaml")
DOC = yaml.safe_load(CASES_FILE.read_text())
FILES: dict[str, str] = DOC["files"]
CASES: list[dict[str, Any]] = DOC["cases"]


def _fill(value: Any, org: OrgClient, other: OrgClient) -> Any:
    """Replace ``{org}``/``{other}`` in strings and ``@name`` file references, recursively."""
    if isinstance(value, str):
        if value.startswith("@") and value[1:] in FILES:
            return FILES[value[1:]]
        return value.replace("{org}", org.slug).replace("{other}", other.slug)
    if isinstance(value, list):
        return [_fill(v, org, other) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, org, other) for k, v in value.items()}
    return value


def _token(who: str, org: OrgClient, other: OrgClient) -> str | None:
    if who == "admin":
        return org.token
    if who == "other":
        return other.token
    if who in ("viewer", "editor"):
        return org.key(who)
    return None


def _send(req: dict[str, Any], org: OrgClient, other: OrgClient) -> Any:
    req = _fill(req, org, other)
    token = _token(req.get("as", "admin"), org, other)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    kwargs: dict[str, Any] = {}
    if "json" in req:
        kwargs["json"] = req["json"]
    elif "raw" in req:
        kwargs["content"] = req["raw"]["content"].encode()
        headers["Content-Type"] = req["raw"]["content_type"]
    elif "multipart" in req:
        kwargs["files"] = _multipart(req["multipart"])
    return org.client.request(req["method"], req["path"], headers=headers, **kwargs)


def _multipart(spec: dict[str, Any]) -> list[tuple[str, Any]]:
    parts: list[tuple[str, Any]] = []
    if "payload" in spec:
        payload = spec["payload"]
        text = payload if isinstance(payload, str) else json.dumps(payload)
        parts.append(("payload", ("payload.json", text.encode()) if spec.get("payload_as_file") else (None, text)))
    if "policy_file" in spec:
        parts.append(("policy_file", ("policy.yaml", spec["policy_file"].encode(), "application/octet-stream")))
    for name, text in spec.get("parts", {}).items():
        parts.append((name, ("part.yaml", text.encode())))
    return parts


def assert_subset(expected: Any, actual: Any, where: str = "body") -> None:
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: expected an object, got {actual!r}"
        for key, value in expected.items():
            assert key in actual, f"{where}: missing {key!r} in {actual!r}"
            assert_subset(value, actual[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), (
            f"{where}: expected {expected!r}, got {actual!r}"
        )
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            assert_subset(e, a, f"{where}[{i}]")
    else:
        assert actual == expected, f"{where}: expected {expected!r}, got {actual!r}"


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case(case: dict[str, Any], org: OrgClient, other_org: OrgClient) -> None:
    for step in case.get("setup", []):
        r = _send(step, org, other_org)
        assert 200 <= r.status_code < 300, f"setup {step['method']} {step['path']}: {r.status_code} {r.text}"
    r = _send(case["request"], org, other_org)
    expect = _fill(case["expect"], org, other_org)
    assert r.status_code == expect["status"], r.text
    body = r.json()
    schema = expect.get("schema")
    if schema and schema.endswith("[]"):
        assert isinstance(body, list)
        for item in body:
            assert_valid(schema[:-2], item)
    elif schema:
        assert_valid(schema, body)
    if r.status_code >= 400:
        assert_valid(VALIDATION_ERROR, body)
        assert set(body) <= {"message", "errors"}
    if "body" in expect:
        assert_subset(expect["body"], body)
    if "message" in expect:
        assert expect["message"] in body["message"]
    for field, fragment in expect.get("errors", {}).items():
        assert field in body.get("errors", {}), f"no error for {field!r}: {body}"
        assert fragment in body["errors"][field], body["errors"][field]
