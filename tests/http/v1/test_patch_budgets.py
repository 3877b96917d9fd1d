"""A patch runs under a budget (issue 11): operations per patch, bytes it adds, the patched document's size.

Twenty JSON Patch ``copy`` operations of ``/spec`` into itself, in a 1 KB dry-run PATCH, took 6.3 s and
+460 MB before: each doubled the document. Now the patch stops at the operation that would add more than
the body limit, with a 413 naming it, and legitimate patches (copies included) still apply.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from policyhub.app import build_container
from policyhub.http.app import create_app
from policyhub.http.deps import Container
from tests.conftest import OrgClient, make_settings, new_org

SPEC = {f"k{i}": "v" * 40 for i in range(20)}  # about 1 KB
DOUBLING = [{"op": "copy", "from": "/spec", "path": f"/spec/c{i}"} for i in range(20)]


def test_a_self_doubling_copy_patch_is_refused_fast_with_little_memory(org: OrgClient) -> None:
    org.create_policy("doubling", SPEC)
    before = org.get("policies/doubling").json()
    tracemalloc.start()
    started = time.perf_counter()
    r = org.patch("policies/doubling", ops=DOUBLING, params={"dry_run": "true"})
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert r.status_code == 413, r.text
    error = r.json()["errors"][0]
    assert error["field"].startswith("body.") and "copy more than 1048576 bytes" in error["message"]
    assert int(error["field"].split(".")[1]) < 12  # stopped at the doubling that crossed 1 MiB, not the 20th
    assert elapsed < 5, f"took {elapsed:.1f} s (was 6.3 s for a document it never finished)"
    assert peak < 200 * 1024 * 1024, f"peak {peak / 2**20:.0f} MiB of Python objects (was +460 MB)"
    assert org.get("policies/doubling").json() == before


def test_copies_within_the_budget_still_apply(org: OrgClient) -> None:
    org.create_policy("copies", SPEC)
    r = org.patch("policies/copies", ops=DOUBLING[:3])
    assert r.status_code == 200, r.text
    spec = r.json()["spec"]
    assert spec["c0"] == SPEC and spec["c2"]["c1"]["c0"] == SPEC


def test_a_patch_with_too_many_operations_is_400(org: OrgClient) -> None:
    org.create_policy("many", {"n": 1})
    ops = [{"op": "test", "path": "/spec/n", "value": 1}] * 1001
    r = org.patch("policies/many", ops=ops)
    assert r.status_code == 400, r.text
    assert r.json()["errors"] == [
        {"field": "body", "message": "a JSON Patch may have at most 1000 operations, not 1001"}
    ]
    assert org.patch("policies/many", ops=ops[:1000]).status_code == 200  # the limit itself is allowed


def test_a_failed_test_operation_names_json_types_not_python_ones(org: OrgClient) -> None:
    """Issue 16: the 409 said ``1 (<class 'int'>) is not equal to tested value 1 (<class 'str'>)``."""
    org.create_policy("typed", {"n": 1})
    r = org.patch("policies/typed", ops=[{"op": "test", "path": "/spec/n", "value": "1"}])
    assert r.status_code == 409, r.text
    assert "<class" not in r.text
    assert r.json()["errors"] == [
        {"field": "body.0", "message": "test at '/spec/n' failed: expected \"1\" (a string), found 1 (a number)"}
    ]
    assert org.patch("policies/typed", ops=[{"op": "test", "path": "/spec/n", "value": 1.0}]).status_code == 200


@pytest.fixture(scope="module")
def small_body_client(database_url: str) -> Iterator[tuple[TestClient, Container]]:
    """An app whose body limit (and so patched-document limit) is 64 KiB."""
    c = build_container(make_settings(database_url, max_body_bytes=64 * 1024))
    with TestClient(create_app(container=c), raise_server_exceptions=False) as client:
        yield client, c
    c.db.dispose()


def test_patched_documents_are_bounded_by_the_body_limit(small_body_client: tuple[TestClient, Container]) -> None:
    org = new_org(*small_body_client)
    org.create_policy("near-limit", {"a": "x" * 40_000})
    merged = org.patch("policies/near-limit", merge={"spec": {"b": "y" * 40_000}})
    assert merged.status_code == 413, merged.text
    assert merged.json()["errors"][0]["field"] == "body"
    assert "the limit is 65536" in merged.json()["errors"][0]["message"]
    copied = org.patch("policies/near-limit", ops=[{"op": "copy", "from": "/spec/a", "path": "/spec/b"}])
    assert copied.status_code == 413, copied.text
    assert copied.json()["errors"][0]["field"] == "body"
    assert org.get("policies/near-limit").json()["spec"].keys() == {"a"}
    small = org.patch("policies/near-limit", merge={"spec": {"b": "y" * 1000}})
    assert small.status_code == 200, small.text
