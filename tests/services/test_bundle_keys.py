"""The bundle-signing key: configured, or generated once next to a SQLite file; never for PostgreSQL."""

from __future__ import annotations

import base64
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from policyhub.cli.main import app as cli
from policyhub.domain.bundle_signing import SigningKey
from policyhub.services.bundle_keys import (
    BundleKeyError,
    BundleKeys,
    bundle_key_problem,
    load_bundle_keys,
    sqlite_key_path,
)
from policyhub.settings import Settings, get_settings

SEED_A = base64.b64encode(b"a" * 32).decode()
SEED_B = base64.b64encode(b"b" * 32).decode()


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """An environment with no bundle key configured (the test session sets one)."""
    monkeypatch.delenv("POLICYHUB_BUNDLE_SIGNING_KEY", raising=False)
    monkeypatch.delenv("POLICYHUB_BUNDLE_SIGNING_KEY_FILE", raising=False)
    yield monkeypatch
    get_settings.cache_clear()


def _settings(url: str, **kw: object) -> Settings:
    return Settings(database_url=url, access_log=False, **kw)  # type: ignore[arg-type]


def test_sqlite_generates_one_key_file_next_to_the_database(no_key: pytest.MonkeyPatch, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/hub.db"
    found: list[BundleKeys | None] = []
    threads = [threading.Thread(target=lambda: found.append(load_bundle_keys(_settings(url)))) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = {k.signer.key_id for k in found if k is not None}
    assert len(ids) == 1 and len(found) == 6, "concurrent first uses agree on one key"
    path = sqlite_key_path(url)
    assert path is not None and path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o600
    again = load_bundle_keys(_settings(url))
    assert again is not None and again.signer.key_id in ids


def test_postgres_has_no_key_unless_configured_and_serve_refuses(no_key: pytest.MonkeyPatch) -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:1/none"
    assert load_bundle_keys(_settings(url)) is None
    assert bundle_key_problem(_settings(url)) is not None
    assert bundle_key_problem(_settings(url, bundle_signing_key=SEED_A)) is None
    no_key.setenv("POLICYHUB_DATABASE_URL", url)
    get_settings.cache_clear()
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 2
    assert "POLICYHUB_BUNDLE_SIGNING_KEY" in result.output and "every replica" in result.output


def test_rotation_signs_with_the_first_and_publishes_all(no_key: pytest.MonkeyPatch, tmp_path: Path) -> None:
    keys = load_bundle_keys(_settings("sqlite://", bundle_signing_key=f"{SEED_B}, {SEED_A}"))
    assert keys is not None
    assert keys.signer.key_id == SigningKey.from_b64(SEED_B).key_id
    assert [k.key_id for k in keys.published] == [SigningKey.from_b64(s).key_id for s in (SEED_B, SEED_A)]
    key_file = tmp_path / "bundle.key"
    key_file.write_text(SEED_A + "\n")
    from_file = load_bundle_keys(_settings("postgresql+psycopg://x@h/db", bundle_signing_key_file=key_file))
    assert from_file is not None and from_file.signer.key_id == SigningKey.from_b64(SEED_A).key_id


def test_an_unusable_key_is_named(no_key: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(BundleKeyError, match="32 bytes"):
        load_bundle_keys(_settings("sqlite://", bundle_signing_key="c2hvcnQ="))
    problem = bundle_key_problem(_settings("sqlite://", bundle_signing_key_file=tmp_path / "missing"))
    assert problem is not None and "missing" in problem
