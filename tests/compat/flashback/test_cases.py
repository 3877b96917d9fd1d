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
    """Objects need the expected members; lists the same length, item by item."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: expected an object, got {actual!r}"
        for key, value in expected.items():
            assert key in actual, f"{where}.{key} missing from {actual!r}"
            assert_subset(value, actual[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), f"{where}: {actual!r} != {expected!r}"
        for index, (e, a) in enumerate(zip(expected, actual, strict=True)):
            assert_subset(e, a, f"{where}[{index}]")
    else:
        assert actual == expected, f"{where}: expected {expected!r}, got {actual!r}"


def run_setup(world: World, steps: list[dict[str, Any]], ids: dict[str, str]) -> None:
    """A case's ``setup``: ``create`` a Flashback policy (its id saved as ``<as>``), ``decide`` content at
    the ``ai_content`` point (then the decision log is flushed, so violations can be read)."""
    for step in steps:
        if "create" in step:
            fields = dict(fill(step["create"], ids))
            saved_as = fields.pop("as")
            ids[saved_as] = str(world.create(**fields)["id"])
        if "decide" in step:
            given = fill(step["decide"], ids)
            body = {"point": "ai_content", "scope": given.get("scope"), "input": given["input"]}
            r = world.org.post("decisions", json=body)
            assert r.status_code == 200, r.text
            world.org.container.decisions.log.flush()


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case(world: World, case: dict[str, Any]) -> None:
    ids = {**world.ids, "long_content": "x" * 10_001}
    run_setup(world, case.get("setup", []), ids)
    req = fill(case["request"], ids)
    expect = fill(case["expect"], ids)
    r = world.call(req["method"], req["path"], as_=req.get("as", "admin"), body=req.get("body"), raw=req.get("raw"))
    assert r.status_code == expect["status"], r.text
    body = r.json()
    if expect["status"] >= 400:
        assert set(body) == {"success", "message"} and body["success"] is False, body
        assert expect.get("message", "") in body["message"], body
    assert_subset(expect.get("body", {}), body)
