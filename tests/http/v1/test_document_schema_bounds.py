"""Org document schemas are tenant code: they never make PolicyHub fetch or read anything, and run bounded.

Issue 11: a stored ``{"$ref": "http://127.0.0.1:PORT/..."}`` made a dry-run write fetch that URL on the
shared writer thread (500; a silent listener held the write 24 s), a ``file://`` reference leaked the
file in the 400, and ``pattern`` ran Python's backtracking ``re``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from policyhub.domain.canonical import now
from tests.conftest import OrgClient


class Listener:
    """A loopback HTTP server that records every request and answers none of them (until closed)."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.closing = threading.Event()
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # a fetch of the schema: recorded, then held like a silent server
                listener.requests.append(self.path)
                listener.closing.wait(30)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/schema.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    served = Listener()
    yield served
    served.close()


def store_unchecked(org: OrgClient, name: str, schema: dict[str, Any]) -> None:
    """A schema row as an older PolicyHub stored it, without today's checks (straight through the repository)."""
    with org.container.db.write() as uow:
        uow.schemas.upsert(org.org_id, name, schema, now())


def dry_run_document(org: OrgClient, spec: dict[str, Any]) -> Any:
    return org.post("policies?dry_run=true", json={"name": "doc", "type": "document", "spec": spec})


def fields(r: Any) -> list[str]:
    return [e["field"] for e in r.json()["errors"]]


def test_a_remote_ref_is_refused_when_stored_and_nothing_is_fetched(org: OrgClient, listener: Listener) -> None:
    r = org.put("document-schemas/remote", json={"$ref": listener.url})
    assert r.status_code == 400, r.text
    assert fields(r) == ["schema.$ref"]
    assert "never fetches" in r.json()["errors"][0]["message"]
    nested = {"type": "object", "properties": {"limits": {"items": {"$ref": listener.url + "#/x"}}}}
    r = org.put("document-schemas/remote", json=nested)
    assert r.status_code == 400 and fields(r) == ["schema.properties.limits.items.$ref"]
    assert org.get("document-schemas/remote").status_code == 404
    assert listener.requests == []


def test_a_stored_remote_ref_cannot_fetch_at_write_time(org: OrgClient, listener: Listener) -> None:
    store_unchecked(org, "old", {"type": "object", "properties": {"max": {"$ref": listener.url}}})
    started = time.monotonic()
    r = dry_run_document(org, {"$schema": "old", "max": 3})
    elapsed = time.monotonic() - started
    assert r.status_code == 400, r.text
    assert fields(r) == ["spec.$schema"]
    message = r.json()["errors"][0]["message"]
    assert "schema.properties.max.$ref" in message and "store it again" in message
    assert listener.requests == []
    assert elapsed < 2.0  # a fetch would have waited on the silent listener (the issue measured 24 s)
    # once an admin stores a local version, documents validate again
    local = {"type": "object", "properties": {"max": {"type": "integer"}}}
    assert org.put("document-schemas/old", json=local).status_code == 200
    assert dry_run_document(org, {"$schema": "old", "max": 3}).status_code == 201


def test_a_file_ref_is_refused_without_reading_the_file(org: OrgClient) -> None:
    with open("/etc/passwd", encoding="utf-8") as f:
        first_line = f.readline().strip()
    r = org.put("document-schemas/leak", json={"$ref": "file:///etc/passwd"})
    assert r.status_code == 400 and fields(r) == ["schema.$ref"]
    assert first_line not in r.text and "root:" not in r.text
    store_unchecked(org, "leak", {"$ref": "file:///etc/passwd"})
    r = dry_run_document(org, {"$schema": "leak"})
    assert r.status_code == 400 and fields(r) == ["spec.$schema"]
    assert first_line not in r.text and "root:" not in r.text


def test_local_refs_resolve_and_validate(org: OrgClient) -> None:
    schema = {
        "$id": "urn:acme:limits",
        "$defs": {
            "positive": {"type": "integer", "minimum": 1},
            "name": {"$anchor": "name", "type": "string", "maxLength": 8},
        },
        "type": "object",
        "properties": {
            "max": {"$ref": "#/$defs/positive"},
            "owner": {"$ref": "#name"},
            "min": {"$ref": "urn:acme:limits#/$defs/positive"},
            "children": {"type": "array", "items": {"$ref": "#"}},
        },
    }
    assert org.put("document-schemas/limits", json=schema).status_code == 201
    ok = org.post(
        "policies",
        json={"name": "d", "type": "document", "spec": {"$schema": "limits", "max": 2, "children": [{"max": 1}]}},
    )
    assert ok.status_code == 201, ok.text
    bad = dry_run_document(org, {"$schema": "limits", "max": 0, "owner": "a-long-name", "children": [{"min": 0}]})
    assert bad.status_code == 400
    assert fields(bad) == ["spec.children.0.min", "spec.max", "spec.owner"]


def test_a_catastrophic_pattern_runs_in_linear_time(org: OrgClient) -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string", "pattern": "(a+)+$"}},
        "patternProperties": {"^(x+)+$": {"type": "integer"}},
        "additionalProperties": False,
    }
    assert org.put("document-schemas/names", json=schema).status_code == 201
    started = time.monotonic()
    r = dry_run_document(org, {"$schema": "names", "name": "a" * 40 + "!", "x" * 40 + "!": 1})
    assert time.monotonic() - started < 2.0  # Python's re: 2^40 steps
    assert r.status_code == 400
    assert fields(r) == ["spec", "spec.name"]  # the extra property, then the pattern
    assert dry_run_document(org, {"$schema": "names", "name": "aaa", "xxx": 1}).status_code == 201


@pytest.mark.parametrize(
    ("schema", "field"),
    [
        ({"properties": {"word": {"pattern": r"(\w+) \1"}}}, "schema.properties.word.pattern"),
        ({"patternProperties": {"^(?!internal)": {}}}, "schema.patternProperties.^(?!internal)"),
    ],
)
def test_a_pattern_re2_cannot_run_is_refused_when_stored(org: OrgClient, schema: dict[str, Any], field: str) -> None:
    r = org.put("document-schemas/p", json=schema)
    assert r.status_code == 400, r.text
    assert fields(r) == [field]
    assert "RE2" in r.json()["errors"][0]["message"]


def test_a_stored_backreference_fails_the_write_with_a_400(org: OrgClient) -> None:
    store_unchecked(org, "backref", {"properties": {"word": {"pattern": r"(\w+) \1"}}})
    r = dry_run_document(org, {"$schema": "backref", "word": "a a"})
    assert r.status_code == 400 and "schema.properties.word.pattern" in r.json()["errors"][0]["message"]


def test_a_wrapped_schema_is_refused(org: OrgClient) -> None:
    r = org.put("document-schemas/w", json={"schema": {"type": "object", "required": ["max"]}})
    assert r.status_code == 400 and fields(r) == ["schema"]
    assert "send the JSON Schema itself" in r.json()["errors"][0]["message"]
    # a property called "schema", or "schema" next to other keywords, is an ordinary schema
    described = {"type": "object", "properties": {"schema": {"type": "string"}}}
    assert org.put("document-schemas/w", json=described).status_code == 201
    assert org.put("document-schemas/w", json={"schema": {}, "type": "object"}).status_code == 200


def test_a_nested_dialect_switch_is_refused(org: OrgClient) -> None:
    switched = {"allOf": [{"$schema": "http://json-schema.org/draft-07/schema#", "pattern": "(a+)+$"}]}
    r = org.put("document-schemas/d", json=switched)
    assert r.status_code == 400 and fields(r) == ["schema.allOf.0.$schema"]
    top = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object"}
    assert org.put("document-schemas/d", json=top).status_code == 201


def test_runaway_validation_is_a_400_within_the_budget(org: OrgClient) -> None:
    loop = {"$ref": "#"}
    assert org.put("document-schemas/loop", json=loop).status_code == 201
    r = dry_run_document(org, {"$schema": "loop"})
    assert r.status_code == 400 and fields(r) == ["spec"] and "loop" in r.text
    defs: dict[str, Any] = {f"a{i}": {"anyOf": [{"$ref": f"#/$defs/a{i + 1}"}] * 2} for i in range(40)}
    defs["a40"] = {"type": "string"}
    assert org.put("document-schemas/doubling", json={"$defs": defs, "$ref": "#/$defs/a0"}).status_code == 201
    started = time.monotonic()
    r = dry_run_document(org, {"$schema": "doubling"})
    assert time.monotonic() - started < 5.0  # 2^40 subschema applications without the budget
    assert r.status_code == 400 and fields(r) == ["spec"]
    assert "could not be checked" in r.json()["errors"][0]["message"]


def test_listed_validation_errors_are_capped(org: OrgClient) -> None:
    assert org.put("document-schemas/ints", json={"additionalProperties": {"type": "integer"}}).status_code == 201
    spec: dict[str, Any] = {"$schema": "ints", **{f"k{i:03}": "x" * 10_000 for i in range(200)}}
    r = dry_run_document(org, spec)
    assert r.status_code == 400
    assert len(r.json()["errors"]) == 20
    assert "first 20 errors" in r.json()["detail"]
    assert len(r.text) < 20_000  # each message quotes a short excerpt of the value, not 10 KB of it


def test_an_oversized_schema_is_refused(org: OrgClient) -> None:
    big = {"type": "object", "properties": {f"p{i}": {"description": "x" * 1000} for i in range(300)}}
    r = org.put("document-schemas/big", json=big)
    assert r.status_code == 400 and fields(r) == ["schema"] and "larger than" in r.text
