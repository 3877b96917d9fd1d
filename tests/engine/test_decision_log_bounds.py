"""The decision log keeps bounded records (issue 11), read back through the API on SQLite and PostgreSQL.

Before: a deny decision stored its whole input (a 9.6 MB input in full), reading 500 such rows took
+1.5 GB, and an ``http_request`` input's credentials (query tokens, ``X-JWT-Assertion``, session
headers and cookies, form passwords) were stored and readable by any viewer.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import tracemalloc
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from policyhub.domain.bounded_json import TRUNCATED
from policyhub.http.deps import Container
from policyhub.storage.repositories.decisions import LoggedDecision
from tests.conftest import OrgClient, make_settings, new_org
from tests.engine.threshold_type import registry_with_threshold
from tests.own_app import own_client, own_container

CAP = 16 * 1024
PAGE_BYTES = 4 * 1024 * 1024


@pytest.fixture(scope="module")
def log_container(database_url: str) -> Iterator[Container]:
    with own_container(make_settings(database_url), registry_with_threshold()) as c:
        yield c


@pytest.fixture(scope="module")
def log_client(log_container: Container) -> Iterator[TestClient]:
    with own_client(log_container) as client:
        yield client


@pytest.fixture
def org(log_client: TestClient, log_container: Container) -> OrgClient:
    o = new_org(log_client, log_container)
    body = {"name": "limit", "type": "test.threshold", "spec": {"field": "n", "max": 10}}
    assert o.post("policies", json=body).status_code == 201
    return o


def deny(org: OrgClient, **fields: Any) -> dict[str, Any]:
    r = org.post("decisions", json={"point": "http_request", "input": {"context": {"n": 20}, **fields}})
    assert r.status_code == 200, r.text
    assert r.json()["decision"] == "deny"
    return dict(r.json())


def canonical_sha256(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def test_a_large_deny_input_is_stored_cut_with_a_marker(org: OrgClient, log_container: Container) -> None:
    samples = list(range(1_200_000))  # 9.6 MB of JSON in context (whose numbers the log keeps)
    decided = deny(org, context={"n": 20, "samples": samples}, method="POST", user="ann@example.com")
    log_container.decisions.log.flush()
    r = org.get(f"decisions/{decided['id']}")
    assert r.status_code == 200, r.text
    assert len(r.content) < CAP + 2048, f"{len(r.content)} bytes stored for one record"
    record = r.json()
    kept = record["input"]
    assert kept["context"]["n"] == 20 and kept["method"] == "POST" and kept["user"] == "ann@example.com"
    assert kept["context"]["samples"] == {
        TRUNCATED: True,
        "bytes": len(json.dumps(samples, separators=(",", ":"))),
        "sha256": canonical_sha256(samples),
    }
    assert record["input_hash"] == decided["input_hash"]  # the whole input is still identified
    assert [x["policy_id"] for x in record["results"]] == [x["policy_id"] for x in decided["results"]]


def test_a_small_input_is_stored_whole(org: OrgClient, log_container: Container) -> None:
    decided = deny(org, context={"n": 20, "samples": list(range(100))}, method="GET", path="/orders/7")
    log_container.decisions.log.flush()
    kept = org.get(f"decisions/{decided['id']}").json()["input"]
    assert kept == {"context": {"n": 20, "samples": list(range(100))}, "method": "GET", "path": "/orders/7"}


def test_a_page_of_500_large_denials_is_bounded_in_bytes_and_its_cursor_goes_on(
    org: OrgClient, log_container: Container
) -> None:
    # 40 lists of about 550 bytes: 22 KB, cut to just under the 16 KiB cap (the largest lists become markers)
    context = {"n": 20, **{f"s{i}": list(range(150)) for i in range(40)}}
    for _ in range(5):
        item = {"point": "http_request", "input": {"context": context}}
        r = org.post("decisions/batch", json={"requests": [item] * 100})
        assert r.status_code == 200, r.text
    log_container.decisions.log.flush()
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        tracemalloc.start()
        r = org.get("decisions", params={"limit": 500, **({"page_token": token} if token else {})})
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert r.status_code == 200, r.text
        assert len(r.content) <= PAGE_BYTES, f"a page of {len(r.content)} bytes"
        assert peak < 64 * 1024 * 1024, f"reading a page peaked at {peak / 2**20:.0f} MiB"
        page = r.json()
        assert all(CAP - 1024 < len(json.dumps(d["input"], separators=(",", ":"))) <= CAP for d in page["items"])
        seen += [d["id"] for d in page["items"]]
        pages += 1
        token = page["next_page_token"]
        if not token:
            break
    assert len(seen) == len(set(seen)) == 500
    assert pages >= 2  # 500 records of ~17 KB do not fit one 4 MiB page


def test_rows_written_before_the_caps_are_read_as_markers(org: OrgClient, log_container: Container) -> None:
    """A row holding a 2 MB input (written by an older version) is not read into a page."""
    huge = {"context": {"n": 20, "blob": "x" * 2_000_000}}
    rows = [
        LoggedDecision(
            id=str(uuid.uuid4()),
            org_id=org.org_id,
            at=datetime.now(UTC),
            source="v1",
            point="http_request",
            scope_path=None,
            decision="deny",
            input_hash="h",
            input=huge,
            results=[{"policy_id": "p", "effect": "deny", "reasons": ["x" * 100_000]}],
            obligations=[],
            principal_id=None,
            policy_state=0,
        )
        for _ in range(10)
    ]
    log_container.db.transact(lambda uow: uow.decisions.insert_many(rows), tracked=False)
    tracemalloc.start()
    r = org.get("decisions", params={"limit": 10})
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert {d["id"] for d in items} == {row.id for row in rows}
    assert all(d["input"] == {TRUNCATED: True, "bytes": len(json.dumps(huge, separators=(",", ":")))} for d in items)
    assert all(d["results"][0][TRUNCATED] is True for d in items)
    assert peak < 16 * 1024 * 1024, f"reading 10 old 2 MB rows peaked at {peak / 2**20:.0f} MiB"
    one = org.get(f"decisions/{rows[0].id}").json()  # one record by id is still read whole
    assert one["input"] == huge


def test_credentials_in_http_request_inputs_are_not_logged(org: OrgClient, log_container: Container) -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbm4ifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
    path_token = "vY2sXq9Lk3Tz8WmR1pNc6HbF4gJd"  # a reset token in the path (random-looking: redacted)
    credentials = {
        "query-token": "qt-" + secrets.token_hex(6),
        "query-key": "qk-" + secrets.token_hex(6),
        "query-sig": "qs-" + secrets.token_hex(6),
        "jwt": jwt,
        "bearer": "bearer-" + secrets.token_hex(6),
        "session": "sess-" + secrets.token_hex(6),
        "cookie": "ck-" + secrets.token_hex(6),
        "password": "pw-" + secrets.token_hex(6),
        "path-token": path_token,
        "api-key": "ak-" + secrets.token_hex(6),
        "context-token": "ct-" + secrets.token_hex(6),
    }
    c = credentials
    decided = deny(
        org,
        method="POST",
        path=f"/v1/reset/{c['path-token']}/confirm?access_token={c['query-token']}&key={c['query-key']}&sig={c['query-sig']}",
        headers={
            "Authorization": f"Bearer {c['bearer']}",
            "X-JWT-Assertion": c["jwt"],
            "X-Session-Id": c["session"],
            "Cookie": f"JSESSIONID={c['cookie']}",
            "X-Api-Key": c["api-key"],
            "User-Agent": "curl/8.5.0",
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Forwarded-For": "203.0.113.9",
        },
        query={"key": c["query-key"], "sig": c["query-sig"], "page": "2"},
        body=f"username=ann&password={c['password']}",
        user="ann@example.com",
        client_ip="203.0.113.9",
        context={"n": 20, "session": c["context-token"]},
    )
    log_container.decisions.log.flush()
    one = org.get(f"decisions/{decided['id']}")
    listed = org.get("decisions", params={"decision": "deny"})
    viewer = org.get(f"decisions/{decided['id']}", token=org.key("viewer"))
    for response in (one, listed, viewer):
        assert response.status_code == 200, response.text
        leaked = [name for name, value in credentials.items() if value in response.text]
        assert leaked == [], f"logged in clear: {leaked}"
    kept = one.json()["input"]
    assert kept["method"] == "POST" and kept["user"] == "ann@example.com" and kept["client_ip"] == "203.0.113.9"
    assert kept["path"] == ("/v1/reset/[REDACTED]/confirm?access_token=[REDACTED]&key=[REDACTED]&sig=[REDACTED]")
    assert kept["headers"]["User-Agent"] == "curl/8.5.0"
    assert kept["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert kept["headers"]["X-Forwarded-For"] == "203.0.113.9"
    for name in ("Authorization", "X-JWT-Assertion", "X-Session-Id", "Cookie", "X-Api-Key"):
        assert kept["headers"][name] == "[REDACTED]"
    assert kept["query"] == {"key": "[REDACTED]", "sig": "[REDACTED]", "page": "[REDACTED]"}
    assert kept["body"] == "[REDACTED]"
    assert kept["context"] == {"n": 20, "session": "[REDACTED]"}
