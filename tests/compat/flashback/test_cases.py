"""Runs cases.yaml: each case against a fresh Flashback world, on both backends."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import World

CASES: list[dict[str, Any]] = yaml.safe_load((Path(__file__).parent / "cases.yaml").read_text(encoding="utf-8"))
_PLACEHOLDER = re.compile(r"<(\w+)>")


def fill(value: Any, ids: dict[str, str]) -> Any:
    """Replace ``<name>`` placeholders in every string of a value."""
    if isinstance(value, str):
        return _PLACEHOLDER.sub(lambda m: ids.get(m.group(1), m.group(0)), value)
    if isinstance(value, list):
        return [fill(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: fill(v, ids) for k, v in value.items()}
    return value


def assert_subset(expected: Any, actual: Any, where: str = "body") -> None:
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: expected an object, got {actual!r}"
        for key, value in expected.items():
            assert key in actual, f"{where}.{key} missing from {actual!r}"
            assert_subset(value, actual[key], f"{where}.{key}")
    else:
        assert actual == expected, f"{where}: expected {expected!r}, got {actual!r}"


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case(world: World, case: dict[str, Any]) -> None:
    ids = {**world.ids, "long_content": "x" * 10_001}
    req = fill(case["request"], ids)
    expect = fill(case["expect"], ids)
    r = world.call(req["method"], req["path"], as_=req.get("as", "admin"), body=req.get("body"), raw=req.get("raw"))
    assert r.status_code == expect["status"], r.text
    body = r.json()
    if expect["status"] >= 400:
        assert set(body) == {"success", "message"} and body["success"] is False, body
        assert expect.get("message", "") in body["message"], body
    assert_subset(expect.get("body", {}), body)
