"""Admin CLI commands against the database named by POLICYHUB_DATABASE_URL."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from policyhub.cli.main import app as cli
from policyhub.settings import get_settings


@pytest.fixture
def runner(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("POLICYHUB_DATABASE_URL", sqlite_url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_orgs_and_keys_lifecycle(runner: CliRunner) -> None:
    slug = f"cli-{uuid.uuid4().hex[:8]}"
    created = runner.invoke(cli, ["orgs", "create", slug, "-o", "json"])
    assert created.exit_code == 0, created.output
    assert json.loads(created.stdout)["admin_token"].startswith("phk_")
    assert runner.invoke(cli, ["orgs", "create", slug]).exit_code == 1
    key = runner.invoke(cli, ["keys", "create", "--org", slug, "--role", "viewer", "--name", "ci", "-o", "json"])
    assert key.exit_code == 0, key.output
    issued = json.loads(key.stdout)
    assert issued["token"].startswith("phk_") and issued["role"] == "viewer"
    listed = json.loads(runner.invoke(cli, ["keys", "list", "--org", slug, "-o", "json"]).stdout)
    assert {k["id"] for k in listed} >= {issued["id"]}
    assert all("token" not in k for k in listed)
    assert runner.invoke(cli, ["keys", "revoke", issued["id"], "--org", slug]).exit_code == 0
    listed = json.loads(runner.invoke(cli, ["keys", "list", "--org", slug, "-o", "json"]).stdout)
    assert next(k for k in listed if k["id"] == issued["id"])["revoked"] is True
    bad = runner.invoke(cli, ["keys", "create", "--org", slug, "--role", "root"])
    assert bad.exit_code == 1 and "role" in bad.output
    assert runner.invoke(cli, ["keys", "list", "--org", "no-such-org"]).exit_code == 1
    verify = runner.invoke(cli, ["audit", "verify", "--org", slug])
    assert verify.exit_code == 0 and "True" in verify.stdout
