"""`policyhub keys revoke` refuses the org's last admin key unless --force; `keys create --role admin`
recovers an org whose admin keys are lost (issue 11, issue 16)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from policyhub.cli.main import app as cli
from policyhub.settings import get_settings


@pytest.fixture
def runner(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("POLICYHUB_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def run(runner: CliRunner, *args: str) -> tuple[int, str]:
    result = runner.invoke(cli, list(args))
    return result.exit_code, result.output


def admin_keys(runner: CliRunner, slug: str) -> list[dict[str, object]]:
    code, out = run(runner, "keys", "list", "--org", slug, "-o", "json")
    assert code == 0, out
    return [k for k in json.loads(out) if k["role"] == "admin" and not k["revoked"]]


def test_revoke_refuses_the_last_admin_key_unless_forced(runner: CliRunner, app_client: TestClient) -> None:
    slug = f"cli-{uuid.uuid4().hex[:8]}"
    assert run(runner, "orgs", "create", slug)[0] == 0
    [first] = admin_keys(runner, slug)
    code, out = run(runner, "keys", "revoke", str(first["id"]), "--org", slug)
    assert code == 1 and "last active admin key" in out and "--force" in out
    assert admin_keys(runner, slug) == [first]

    code, out = run(runner, "keys", "create", "--org", slug, "--role", "admin", "-o", "json")
    assert code == 0, out
    second = json.loads(out)
    assert run(runner, "keys", "revoke", str(first["id"]), "--org", slug)[0] == 0
    assert run(runner, "keys", "revoke", second["id"], "--org", slug)[0] == 1
    assert run(runner, "keys", "revoke", second["id"], "--org", slug, "--force")[0] == 0
    assert admin_keys(runner, slug) == []

    # Recovery of an org without a usable admin key: an operator on the database issues a new one.
    code, out = run(runner, "keys", "create", "--org", slug, "--role", "admin", "--name", "recovery", "-o", "json")
    assert code == 0, out
    token = json.loads(out)["token"]
    r = app_client.get(f"/v1/orgs/{slug}/keys", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
