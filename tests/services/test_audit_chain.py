"""The audit hash chain: each tamper class is detected at the exact event, through the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from policyhub.cli.main import app as cli
from policyhub.domain.canonical import content_hash
from policyhub.domain.records import Event
from policyhub.http.deps import Container
from policyhub.services.audit import event_hash
from policyhub.services.orgs import create_org
from policyhub.settings import get_settings
from policyhub.storage.db import Database
from policyhub.storage.repositories.events import EventFilter, EventRepository
from tests.conftest import TEST_AUDIT_KEY, OrgClient


@pytest.fixture
def run_verify(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], tuple[int, dict]]]:
    monkeypatch.setenv("POLICYHUB_DATABASE_URL", database_url)
    monkeypatch.setenv("POLICYHUB_AUDIT_KEY", TEST_AUDIT_KEY)
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


# -- the keyed chain: what someone who can write the database, but lacks the key, can no longer hide --------
def _rehash_from(container: Container, org_id: str, start: int, *, strip: bool = False) -> None:
    """Re-link and re-hash every event from ``start`` on with the hash function (keeping, or with ``strip``
    dropping, their MACs), and move the org's head to the result: a forger's repair after a deletion."""
    with container.db.engine.begin() as conn:
        log = list(EventRepository(conn).stream(org_id))
        prev = log[start - 2].hash if start > 1 else ""
        for e in log[start - 1 :]:
            forged = replace(e, prev_hash=prev, key_id="" if strip else e.key_id, mac="" if strip else e.mac)
            forged = replace(forged, hash=event_hash(forged))
            conn.execute(
                text(
                    "UPDATE events SET prev_hash = :p, hash = :h, key_id = :k, mac = :m WHERE org_id = :o AND seq = :s"
                ),
                {"p": forged.prev_hash, "h": forged.hash, "k": forged.key_id, "m": forged.mac, "o": org_id, "s": e.seq},
            )
            prev = forged.hash
        conn.execute(
            text("UPDATE orgs SET chain_seq = :s, chain_head = :h WHERE id = :o"),
            {"s": log[-1].seq, "h": prev, "o": org_id},
        )


def _delete_and_renumber(container: Container, org_id: str, seq: int) -> None:
    with container.db.engine.begin() as conn:
        conn.execute(text("DELETE FROM events WHERE org_id = :o AND seq = :s"), {"o": org_id, "s": seq})
        last = conn.execute(text("SELECT max(seq) FROM events WHERE org_id = :o"), {"o": org_id}).scalar_one()
        for n in range(seq + 1, last + 1):
            conn.execute(
                text("UPDATE events SET seq = :m WHERE org_id = :o AND seq = :n"), {"o": org_id, "n": n, "m": n - 1}
            )


def test_every_event_is_keyed_and_a_legitimate_chain_verifies(
    org: OrgClient, run_verify: Callable[[str], tuple[int, dict]]
) -> None:
    _seed(org)
    with org.container.db.read() as uow:
        log = list(uow.events.stream(org.org_id))
    assert all(e.key_id and len(e.mac) == 64 for e in log)
    code, report = run_verify(org.slug)
    assert (code, report["ok"], report["unkeyed_through"], report["versions"]) == (0, True, None, 6)
    body = org.get("audit/verify").json()
    assert (body["ok"], body["versions_checked"], body["unkeyed_through"], body["note"]) == (True, 6, None, "")


def test_deleted_event_with_the_rest_rehashed_is_detected_at_that_point(
    org: OrgClient, run_verify: Callable[[str], tuple[int, dict]]
) -> None:
    _seed(org)
    _delete_and_renumber(org.container, org.org_id, 4)
    _rehash_from(org.container, org.org_id, 4)
    code, report = run_verify(org.slug)
    assert (code, report["ok"], report["broken_at_seq"]) == (1, False, 4)
    assert "MAC does not match" in report["reason"]
    body = org.get("audit/verify").json()
    assert (body["ok"], body["broken_at_seq"]) == (False, 4)


def test_stripping_macs_from_the_end_of_the_chain_is_detected(
    org: OrgClient, run_verify: Callable[[str], tuple[int, dict]]
) -> None:
    _seed(org)
    _sql(org.container, "UPDATE events SET data = '{\"forged\": true}' WHERE org_id = :o AND seq = 6", o=org.org_id)
    _rehash_from(org.container, org.org_id, 6, strip=True)
    code, report = run_verify(org.slug)
    assert (code, report["broken_at_seq"]) == (1, 6)
    assert "stripped" in report["reason"]


def test_a_chain_stripped_of_every_mac_shows_as_unkeyed_and_fails_require_keyed(
    org: OrgClient, run_verify: Callable[[str], tuple[int, dict]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The limit of a MAC per event: a forger who strips them all is left with a plain hash chain, which
    verify reports as unkeyed throughout; --require-keyed (a deployment keyed from its start) refuses it."""
    _seed(org)
    _rehash_from(org.container, org.org_id, 1, strip=True)
    code, report = run_verify(org.slug)
    assert (code, report["ok"], report["unkeyed_through"]) == (0, True, 8)
    assert "events 1-8 carry no MAC" in report["note"]
    result = CliRunner().invoke(cli, ["audit", "verify", "--org", org.slug, "--require-keyed", "-o", "json"])
    assert result.exit_code == 1 and "require-keyed" in json.loads(result.stdout)[0]["reason"]


def test_edited_version_is_detected_at_the_event_that_created_it(
    org: OrgClient, run_verify: Callable[[str], tuple[int, dict]]
) -> None:
    _seed(org)
    policy_id = org.get("policies/chain").json()["id"]
    events = org.get("policies/chain/events").json()["items"]
    seq = next(e["seq"] for e in events if e["data"].get("version") == 3)
    _sql(
        org.container,
        "UPDATE policy_versions SET spec = '{\"v\": 99}' WHERE policy_id = :p AND version = 3",
        p=policy_id,
    )
    code, report = run_verify(org.slug)
    assert (code, report["ok"], report["broken_at_seq"]) == (1, False, seq)
    assert f"version 3 of policy {policy_id} was edited" in report["reason"]
    # ... also when the forger recomputes the version's own content hash: its event (MACed) keeps the truth
    _sql(
        org.container,
        "UPDATE policy_versions SET content_hash = :h WHERE policy_id = :p AND version = 3",
        p=policy_id,
        h=content_hash({"v": 99}, None),
    )
    assert run_verify(org.slug)[1]["broken_at_seq"] == seq
    assert org.get("audit/verify").json()["broken_at_seq"] == seq


def test_edited_policy_row_is_detected(org: OrgClient, run_verify: Callable[[str], tuple[int, dict]]) -> None:
    """The row decisions evaluate, edited behind the API, no longer matches the version its event recorded."""
    _seed(org)
    policy_id = org.get("policies/chain").json()["id"]
    _sql(org.container, "UPDATE policies SET spec = '{\"v\": 99}' WHERE id = :p", p=policy_id)
    code, report = run_verify(org.slug)
    assert (code, report["broken_at_seq"]) == (1, 8)
    assert f"policy {policy_id} was edited" in report["reason"]


def test_deleted_version_is_detected(org: OrgClient, run_verify: Callable[[str], tuple[int, dict]]) -> None:
    _seed(org)
    policy_id = org.get("policies/chain").json()["id"]
    _sql(org.container, "DELETE FROM policy_versions WHERE policy_id = :p AND version = 6", p=policy_id)
    code, report = run_verify(org.slug)
    assert (code, report["broken_at_seq"]) == (1, 8)
    assert "is missing" in report["reason"]


def test_missing_or_wrong_key_is_named(
    org: OrgClient, run_verify: Callable[[str], tuple[int, dict]], monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(org)
    monkeypatch.delenv("POLICYHUB_AUDIT_KEY")
    get_settings.cache_clear()
    result = CliRunner().invoke(cli, ["audit", "verify", "--org", org.slug, "-o", "json"])
    report = json.loads(result.stdout)[0]
    assert (result.exit_code, report["broken_at_seq"]) == (1, 1)
    assert "no audit key is configured" in report["reason"] and "POLICYHUB_AUDIT_KEY" in report["reason"]

    monkeypatch.setenv("POLICYHUB_AUDIT_KEY", "a-different-key-0123456789abcdef0123456789")
    get_settings.cache_clear()
    result = CliRunner().invoke(cli, ["audit", "verify", "--org", org.slug, "-o", "json"])
    report = json.loads(result.stdout)[0]
    assert (result.exit_code, report["broken_at_seq"]) == (1, 1)
    assert "not a configured audit key" in report["reason"]


def test_events_from_before_the_key_are_reported_and_cannot_follow_keyed_ones(
    org: OrgClient, run_verify: Callable[[str], tuple[int, dict]], database_url: str
) -> None:
    """An org whose first events were written by a process without a key (an upgrade), then by the server."""
    unkeyed = Database(database_url, pool_size=1)
    try:
        with unkeyed.write() as uow:
            created = create_org(uow, f"legacy-{org.slug}")
    finally:
        unkeyed.dispose()
    assert created.admin_token
    legacy = OrgClient(org.client, created.org.slug, created.org.id, created.admin_token, org.container)
    _seed(legacy)
    code, report = run_verify(legacy.slug)
    assert (code, report["ok"], report["unkeyed_through"]) == (0, True, 2)
    assert "events 1-2 carry no MAC" in report["note"]
    assert legacy.get("audit/verify").json()["unkeyed_through"] == 2
    _sql(org.container, "UPDATE events SET key_id = '', mac = '' WHERE org_id = :o AND seq = 7", o=legacy.org_id)
    code, report = run_verify(legacy.slug)
    assert (code, report["broken_at_seq"]) == (1, 7)
    assert "stripped" in report["reason"]


def test_a_checkpoint_exposes_a_rewound_log(
    org: OrgClient, run_verify: Callable[[str], tuple[int, dict]], tmp_path: Path
) -> None:
    """A log cut back to an earlier head is a valid chain; a checkpoint kept outside the database is not fooled."""
    _seed(org)
    result = CliRunner().invoke(cli, ["audit", "checkpoint", "--org", org.slug, "-o", "json"])
    assert result.exit_code == 0, result.output
    points = json.loads(result.stdout)
    assert points[0]["seq"] == 8 and len(points[0]["mac"]) == 64
    saved = tmp_path / "checkpoint.json"
    saved.write_text(result.stdout)
    assert org.patch("policies/chain", merge={"spec": {"v": 10}}).status_code == 200
    args = ["audit", "verify", "--org", org.slug, "--checkpoint", str(saved), "-o", "json"]
    assert CliRunner().invoke(cli, args).exit_code == 0

    with org.container.db.read() as uow:
        sixth = next(e for e in uow.events.stream(org.org_id) if e.seq == 6)
    _sql(org.container, "DELETE FROM events WHERE org_id = :o AND seq > 6", o=org.org_id)
    _sql(org.container, "UPDATE orgs SET chain_seq = 6, chain_head = :h WHERE id = :o", o=org.org_id, h=sixth.hash)
    # (a rewound copy also drops the versions the dropped events made, and has the policy as it was then)
    policy_id = org.get("policies/chain").json()["id"]
    _sql(org.container, "DELETE FROM policy_versions WHERE policy_id = :p AND version > 4", p=policy_id)
    _sql(org.container, "UPDATE policies SET spec = '{\"v\": 3}', version = 4 WHERE id = :p", p=policy_id)
    assert run_verify(org.slug)[1]["ok"] is True
    result = CliRunner().invoke(cli, args)
    report = json.loads(result.stdout)[0]
    assert (result.exit_code, report["broken_at_seq"]) == (1, 8)
    assert "rewound or rewritten" in report["reason"]
    saved.write_text(json.dumps([{**points[0], "seq": 5}]))  # a checkpoint edited to fit the rewound log
    report = json.loads(CliRunner().invoke(cli, args).stdout)[0]
    assert "MAC does not verify" in report["reason"]
