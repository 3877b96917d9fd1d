"""The audit hash chain: each tamper class is detected at the exact event, through the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from policyhub.cli.main import app as cli
from policyhub.domain.records import Event
from policyhub.http.deps import Container
from policyhub.services.audit import event_hash
from policyhub.settings import get_settings
from policyhub.storage.repositories.events import EventFilter, EventRepository
from tests.conftest import OrgClient


@pytest.fixture
def run_verify(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], tuple[int, dict]]]:
    monkeypatch.setenv("POLICYHUB_DATABASE_URL", database_url)
    get_settings.cache_clear()

    def verify(slug: str) -> tuple[int, dict]:
        result = CliRunner().invoke(cli, ["audit", "verify", "--org", slug, "-o", "json"])
        return result.exit_code, json.loads(result.stdout)[0]

    yield verify
    get_settings.cache_clear()


def _seed(org: OrgClient) -> None:
    org.create_policy("chain", {"v": 0})
    for i in range(1, 6):
        assert org.patch("policies/chain", merge={"spec": {"v": i}}).status_code == 200


def _sql(container: Container, statement: str, **params: object) -> None:
    with container.db.engine.begin() as conn:
        conn.execute(text(statement), params)


def test_untampered_chain_verifies(org: OrgClient, run_verify: Callable[[str], tuple[int, dict]]) -> None:
    _seed(org)
    code, report = run_verify(org.slug)
    assert (code, report["ok"], report["events"]) == (0, True, 8)
    assert org.get("audit/verify").json()["ok"] is True


def test_edited_event_is_detected_at_that_event(org: OrgClient, run_verify: Callable[[str], tuple[int, dict]]) -> None:
    _seed(org)
    _sql(org.container, "UPDATE events SET actor_name = 'mallory' WHERE org_id = :o AND seq = 5", o=org.org_id)
    code, report = run_verify(org.slug)
    assert (code, report["ok"], report["broken_at_seq"]) == (1, False, 5)
    assert "altered" in report["reason"]


def test_deleted_event_is_detected(org: OrgClient, run_verify: Callable[[str], tuple[int, dict]]) -> None:
    _seed(org)
    _sql(org.container, "DELETE FROM events WHERE org_id = :o AND seq = 4", o=org.org_id)
    code, report = run_verify(org.slug)
    assert (code, report["broken_at_seq"]) == (1, 4)
    assert "missing" in report["reason"]


def test_reordered_events_are_detected(org: OrgClient, run_verify: Callable[[str], tuple[int, dict]]) -> None:
    _seed(org)
    for a, b in ((4, -4), (5, 4), (-4, 5)):
        _sql(org.container, "UPDATE events SET seq = :b WHERE org_id = :o AND seq = :a", o=org.org_id, a=a, b=b)
    code, report = run_verify(org.slug)
    assert (code, report["broken_at_seq"]) == (1, 4)


def test_inserted_event_is_detected(org: OrgClient, run_verify: Callable[[str], tuple[int, dict]]) -> None:
    _seed(org)
    # A forger appends a well-formed, correctly hashed event after the head; the org's head betrays it.
    with org.container.db.read() as uow:
        last = uow.events.list(org.org_id, EventFilter(), 100)[-1]
    forged = Event(
        org_id=org.org_id,
        seq=last.seq + 1,
        object_kind="policy",
        object_id=last.object_id,
        type="metadata_update",
        actor_id="x",
        actor_name="mallory",
        at=last.at,
        data={},
        prev_hash=last.hash,
    )
    forged = Event(**{**forged.__dict__, "hash": event_hash(forged)})
    with org.container.db.engine.begin() as conn:
        EventRepository(conn).append(forged)
    code, report = run_verify(org.slug)
    assert (code, report["broken_at_seq"]) == (1, last.seq + 1)
    # ... and one spliced into the middle breaks the next link.
    _sql(org.container, "UPDATE events SET data = '{\"spliced\": true}' WHERE org_id = :o AND seq = 3", o=org.org_id)
    assert run_verify(org.slug)[1]["broken_at_seq"] == 3


def test_truncated_chain_is_detected(org: OrgClient, run_verify: Callable[[str], tuple[int, dict]]) -> None:
    _seed(org)
    _sql(org.container, "DELETE FROM events WHERE org_id = :o AND seq > 6", o=org.org_id)
    code, report = run_verify(org.slug)
    assert (code, report["broken_at_seq"]) == (1, 7)
    assert "truncated" in report["reason"]


def test_no_secret_is_stored_or_echoed(org: OrgClient) -> None:
    token = org.key("editor")
    with org.container.db.engine.connect() as conn:
        for table in ("api_keys", "events", "principals", "idempotency_keys"):
            rows = conn.execute(text(f"SELECT * FROM {table}")).fetchall()
            assert token not in repr(rows)
            assert token[12:] not in repr(rows)
    assert token not in org.get("keys").text and token not in org.get("events").text
