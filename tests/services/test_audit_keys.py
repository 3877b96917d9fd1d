"""Where the audit key comes from: generated next to an embedded SQLite database with no configuration,
required (and shared) on PostgreSQL, checked against the log at start-up, rotated without breaking the chain."""

from __future__ import annotations

import json
import socket
import stat
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from policyhub.app import build_container
from policyhub.cli.main import app as cli
from policyhub.domain.audit_keys import AuditKeyError, AuditKeyring
from policyhub.domain.records import Actor, Role
from policyhub.services import audit
from policyhub.services.audit_keys import load_audit_keyring, sqlite_key_path
from policyhub.services.orgs import create_org
from policyhub.settings import Settings, get_settings
from policyhub.storage.migrate import upgrade

OLD = "old-audit-key-0123456789abcdef0123456789abcdef"
NEW = "new-audit-key-0123456789abcdef0123456789abcdef"


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """An environment with no audit key configured (the test session sets one)."""
    monkeypatch.delenv("POLICYHUB_AUDIT_KEY", raising=False)
    monkeypatch.delenv("POLICYHUB_AUDIT_KEY_FILE", raising=False)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'var' / 'policyhub.db'}"
    upgrade(url)
    return url


def _write_org(url: str, **settings: Any) -> str:
    """An org created by a server process with ``settings``; its id."""
    c = build_container(Settings(database_url=url, access_log=False, **settings))
    try:
        with c.db.write() as uow:
            return create_org(uow, f"org-{uuid.uuid4().hex[:8]}").org.id
    finally:
        c.db.dispose()


def _verify(url: str, org_id: str, key: str | None) -> audit.ChainReport:
    c = build_container(Settings(database_url=url, access_log=False, audit_key=key))
    try:
        with c.db.read() as uow:
            return audit.verify_org(uow, org_id)
    finally:
        c.db.dispose()


def test_embedded_sqlite_generates_a_private_key_file_once(no_key: pytest.MonkeyPatch, db_url: str) -> None:
    org_id = _write_org(db_url)
    path = sqlite_key_path(db_url)
    assert path is not None and path.name == "policyhub.db.audit-key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = path.read_text()
    _write_org(db_url)  # a restart (or another worker) uses the same key
    assert path.read_text() == first
    report = _verify(db_url, org_id, None)
    assert (report.ok, report.unkeyed_through) == (True, None)
    assert not [p for p in path.parent.iterdir() if ".audit-key." in p.name]  # no temporary files left


def test_concurrent_first_starts_agree_on_one_key(no_key: pytest.MonkeyPatch, db_url: str) -> None:
    found: list[AuditKeyring | None] = []
    threads = [threading.Thread(target=lambda: found.append(load_audit_keyring(db_url, None, None))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({k.signing_id for k in found if k is not None}) == 1 and len(found) == 8


def test_postgres_without_a_key_refuses_to_serve(no_key: pytest.MonkeyPatch) -> None:
    no_key.setenv("POLICYHUB_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:1/none")
    get_settings.cache_clear()
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 2
    assert "POLICYHUB_AUDIT_KEY" in result.output and "every replica" in result.output
    written = CliRunner().invoke(cli, ["orgs", "create", "x"])
    assert written.exit_code == 2 and "POLICYHUB_AUDIT_KEY" in written.output


def test_a_server_with_another_key_than_the_log_refuses_to_start(no_key: pytest.MonkeyPatch, db_url: str) -> None:
    _write_org(db_url, audit_key=OLD)
    no_key.setenv("POLICYHUB_DATABASE_URL", db_url)
    no_key.setenv("POLICYHUB_AUDIT_KEY", NEW)
    with socket.socket() as s:  # serve refuses a taken port first: not the default one, which `make run` may hold
        s.bind(("127.0.0.1", 0))
        no_key.setenv("POLICYHUB_PORT", str(s.getsockname()[1]))
    get_settings.cache_clear()

    def served(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the server started with the wrong key")

    no_key.setattr("uvicorn.run", served)
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 2, result.output
    assert "same POLICYHUB_AUDIT_KEY" in result.output


def test_rotation_keeps_the_old_key_for_verification(no_key: pytest.MonkeyPatch, db_url: str) -> None:
    with_old = _write_org(db_url, audit_key=OLD)
    c = build_container(Settings(database_url=db_url, access_log=False, audit_key=f"{NEW},{OLD}"))
    try:
        with c.db.write() as uow:  # the org's next events are MACed with the new key
            audit.lock_org(uow, with_old)
            actor = Actor(org_id=with_old, principal_id="system", name="system", role=Role.ADMIN)
            event = audit.record(uow, actor, object_kind="org", object_id=with_old, type="settings_update", data={})
    finally:
        c.db.dispose()
    assert event.key_id == AuditKeyring.parse(NEW).signing_id
    assert _verify(db_url, with_old, f"{NEW},{OLD}").ok
    dropped = _verify(db_url, with_old, NEW)  # the old key no longer listed: its events cannot be checked
    assert (dropped.ok, dropped.broken_at_seq) == (False, 1)
    assert "not a configured audit key" in dropped.reason


def test_a_key_too_short_or_unreadable_is_refused(no_key: pytest.MonkeyPatch, db_url: str, tmp_path: Path) -> None:
    with pytest.raises(AuditKeyError, match="at least 32"):
        build_container(Settings(database_url=db_url, audit_key="short"))
    with pytest.raises(AuditKeyError, match="audit key file"):
        build_container(Settings(database_url=db_url, audit_key_file=tmp_path / "absent"))
    key_file = tmp_path / "audit.key"
    key_file.write_text(f"{NEW}\n{OLD}\n")
    keyring = load_audit_keyring(db_url, None, key_file)
    assert keyring is not None and keyring.signing_id == AuditKeyring.parse(NEW).signing_id
    assert len(keyring.keys) == 2


def test_checkpoint_json_round_trips_through_the_cli(no_key: pytest.MonkeyPatch, db_url: str, tmp_path: Path) -> None:
    _write_org(db_url)
    no_key.setenv("POLICYHUB_DATABASE_URL", db_url)
    get_settings.cache_clear()
    out = CliRunner().invoke(cli, ["audit", "checkpoint", "-o", "json"])
    assert out.exit_code == 0, out.output
    saved = tmp_path / "points.json"
    saved.write_text(out.stdout)
    assert json.loads(out.stdout)[0]["seq"] == 2
    assert CliRunner().invoke(cli, ["audit", "verify", "--checkpoint", str(saved)]).exit_code == 0
