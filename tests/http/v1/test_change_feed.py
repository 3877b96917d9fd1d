"""GET /v1/orgs/{org}/changes through the real app, on SQLite and PostgreSQL: keyset pages, long polls that
wake on a commit (this process's, or another replica's), the 410 re-bootstrap answer, who may read."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from policyhub.app import Container, build_container
from policyhub.domain.records import Actor, Role
from policyhub.services import change_feed
from tests.conftest import OrgClient, make_settings


def _policy(org: OrgClient, name: str) -> dict[str, Any]:
    r = org.post("policies", json={"name": name, "type": "syftspace.access", "spec": {"denied_users": ["x@y.z"]}})
    assert r.status_code == 201, r.text
    return dict(r.json())


def _feed(org: OrgClient, token: str | None = None, **params: Any) -> Any:
    return org.get("changes", params=params, token=token)


def test_pages_follow_the_log_by_seq_without_key_events(org: OrgClient) -> None:
    created = [_policy(org, f"p{i}") for i in range(5)]
    assert org.post("scopes", json={"kind": "project", "key": "pay"}).status_code == 201
    seen: list[dict[str, Any]] = []
    after, pages = 0, 0
    while True:
        r = _feed(org, after=after, limit=2)
        assert r.status_code == 200, r.text
        body = r.json()
        assert len(body["changes"]) <= 2
        seen.extend(body["changes"])
        pages += 1
        after = body["next_after"]
        if not body["more"]:
            break
    assert pages >= 3
    assert after == body["head"]
    seqs = [c["seq"] for c in seen]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert {c["object_kind"] for c in seen} <= {"policy", "scope"}  # the org's key and principal events: not here
    policies = [c for c in seen if c["kind"] == "policy"]
    assert [c["subject"] for c in policies] == [p["id"] for p in created]
    assert all(c["action"] == "creation" for c in policies)
    scope = next(c for c in seen if c["kind"] == "scope")
    assert (scope["action"], scope["name"]) == ("scope_created", "pay")
    # caught up: an empty page at the head, at once
    r = _feed(org, after=after)
    assert r.json() == {"changes": [], "next_after": after, "head": after, "more": False}


def test_a_long_poll_answers_as_soon_as_a_change_commits(org: OrgClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """This process's commit wakes the poll through the on-commit hook: not the (here 60 s) poll interval."""
    monkeypatch.setitem(org.container.__dict__, "change_feed", change_feed.ChangeFeed(org.container.db, poll_s=60.0))
    head = _feed(org).json()["head"]
    answer: dict[str, Any] = {}

    def poll() -> None:
        started = time.monotonic()
        r = _feed(org, after=head, wait=20)
        answer.update(status=r.status_code, body=r.json(), took=time.monotonic() - started)

    waiter = threading.Thread(target=poll)
    waiter.start()
    time.sleep(0.4)
    assert "status" not in answer  # still waiting
    made = _policy(org, "late")
    waiter.join(timeout=15)
    assert answer["status"] == 200
    assert answer["took"] < 5
    assert [c["subject"] for c in answer["body"]["changes"]] == [made["id"]]


def test_a_long_poll_without_changes_answers_empty_after_its_wait(org: OrgClient) -> None:
    head = _feed(org).json()["head"]
    started = time.monotonic()
    r = _feed(org, after=head, wait=0.6)
    took = time.monotonic() - started
    assert r.status_code == 200
    assert r.json()["changes"] == [] and r.json()["next_after"] == head
    assert 0.55 <= took < 5


@pytest.fixture
def replica(database_url: str) -> Iterator[Container]:
    """Another process's view of the same database: its commits do not run this app's on-commit hooks."""
    other = build_container(make_settings(database_url))
    yield other
    other.db.dispose()


def test_a_long_poll_wakes_on_another_replicas_commit(org: OrgClient, replica: Container) -> None:
    head = _feed(org).json()["head"]
    answer: dict[str, Any] = {}

    def poll() -> None:
        started = time.monotonic()
        r = _feed(org, after=head, wait=20)
        answer.update(body=r.json(), took=time.monotonic() - started)

    waiter = threading.Thread(target=poll)
    waiter.start()
    time.sleep(0.4)
    actor = Actor(org_id=org.org_id, principal_id="replica", name="replica", role=Role.ADMIN)
    with replica.db.write() as uow:
        made = replica.resources.create(uow, actor, "kosli.environment", "prod", {"policy_ids": []})
    waiter.join(timeout=15)
    assert answer["took"] < 5  # the poll interval (0.5 s), not the wait (20 s)
    (change,) = answer["body"]["changes"]
    assert (change["kind"], change["object_kind"], change["subject"], change["name"]) == (
        "resource",
        "kosli.environment",
        made.id,
        "prod",
    )


def test_a_caller_ahead_of_the_head_or_too_far_behind_must_rebootstrap(
    org: OrgClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(4):
        _policy(org, f"q{i}")
    head = _feed(org).json()["head"]
    r = _feed(org, after=head + 5)
    assert r.status_code == 410
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["head"] == head and "bundle" in r.json()["detail"]
    monkeypatch.setattr(change_feed, "MAX_LAG", 3)
    r = _feed(org, after=0)
    assert r.status_code == 410 and r.json()["head"] == head
    assert _feed(org, after=head - 3).status_code == 200


def test_viewers_and_agents_read_it_scoped_keys_and_other_orgs_do_not(org: OrgClient, other_org: OrgClient) -> None:
    assert _feed(org, token=org.key("viewer")).status_code == 200
    assert _feed(org, token=org.key("agent")).status_code == 200  # an agent follows the feed
    assert org.post("scopes", json={"kind": "project", "key": "team"}).status_code == 201
    scoped = org.key("viewer", scope="team")
    assert _feed(org, token=scoped).status_code == 403
    assert org.get(f"/v1/orgs/{other_org.slug}/changes").status_code == 404
    assert org.get("changes", headers={"Authorization": "Bearer nope"}).status_code == 401


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"after": -1}, "after"),
        ({"after": "x"}, "after"),
        ({"wait": -1}, "wait"),
        ({"wait": "soon"}, "wait"),
    ],
)
def test_bad_parameters_are_a_400_naming_the_field(org: OrgClient, params: dict[str, Any], field: str) -> None:
    r = _feed(org, **params)
    assert r.status_code == 400, r.text
    assert [e["field"] for e in r.json()["errors"]] == [field]


def test_a_wait_above_the_cap_is_capped_not_refused(org: OrgClient) -> None:
    _policy(org, "now")
    r = _feed(org, after=0, wait=3600)  # there are changes: it answers at once
    assert r.status_code == 200 and r.json()["changes"]


def test_the_feed_is_in_the_openapi_document(org: OrgClient) -> None:
    spec = org.client.get("/openapi.json").json()
    op = spec["paths"]["/v1/orgs/{org}/changes"]["get"]
    assert {p["name"] for p in op["parameters"]} >= {"after", "limit", "wait"}
    assert "410" in op["responses"]


def _sse(text: str) -> list[dict[str, str]]:
    """The events of a text/event-stream body (comments dropped)."""
    events = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if line and not line.startswith(":"))
        if fields:
            events.append(fields)
    return events


def test_the_stream_sends_each_change_as_an_event_and_ends_after_its_duration(org: OrgClient) -> None:
    for i in range(3):
        _policy(org, f"s{i}")
    page = _feed(org).json()
    started = time.monotonic()
    r = org.get("changes/stream", params={"duration": 0.5})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    assert time.monotonic() - started >= 0.45
    events = _sse(r.text)
    assert [int(e["id"]) for e in events] == [c["seq"] for c in page["changes"]]
    assert {e["event"] for e in events} == {"change"}
    assert [json.loads(e["data"]) for e in events] == page["changes"]
    # resumed after the last one: nothing more, a keep-alive comment only
    r = org.get("changes/stream", params={"duration": 0.2}, headers={"Last-Event-ID": events[-1]["id"]})
    assert _sse(r.text) == [] and ": keep-alive" in r.text


def test_the_stream_sends_a_change_that_commits_while_it_is_open(org: OrgClient) -> None:
    head = _feed(org).json()["head"]
    answer: dict[str, Any] = {}

    def stream() -> None:
        answer["text"] = org.get("changes/stream", params={"after": head, "duration": 2}).text

    reader = threading.Thread(target=stream)
    reader.start()
    time.sleep(0.4)
    made = _policy(org, "streamed")
    reader.join(timeout=15)
    (event,) = _sse(answer["text"])
    assert json.loads(event["data"])["subject"] == made["id"]


def test_the_stream_refuses_what_the_feed_refuses(org: OrgClient) -> None:
    head = _feed(org).json()["head"]
    r = org.get("changes/stream", params={"after": head + 1})
    assert r.status_code == 410 and r.json()["head"] == head
    r = org.get("changes/stream", headers={"Last-Event-ID": "later"})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "Last-Event-ID"
    r = org.get("changes/stream", params={"duration": 301})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "duration"
    assert org.get("changes/stream", token=org.key("editor", scope=None) + "x").status_code == 401
