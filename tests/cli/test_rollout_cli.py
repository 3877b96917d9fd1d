"""``policyhub rollout put|list|status|delete`` against a real server: the status table shows each agent's
revision, whether it is in sync and its last error; ``--check`` fails unless every agent is."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from typer.testing import CliRunner

from policyhub.cli.main import app as cli_app
from policyhub.settings import get_settings
from tests.cli.conftest import Cli


def _agent_token(cli: Cli) -> str:
    headers = {"Authorization": f"Bearer {cli.token}"}
    base = f"{cli.url}/v1/orgs/{cli.org}"
    p = httpx.post(f"{base}/principals", json={"kind": "service_account", "display_name": "gw"}, headers=headers)
    k = httpx.post(f"{base}/keys", json={"principal_id": p.json()["id"], "role": "agent"}, headers=headers)
    assert k.status_code == 201, k.text
    return str(k.json()["token"])


def _report(cli: Cli, token: str, agent: str, revision: int, error: str | None = None) -> None:
    body = {"environment": "prod", "revision": revision, "address": f"{agent}:8181", "last_error": error}
    r = httpx.post(
        f"{cli.url}/v1/orgs/{cli.org}/agents/{agent}/status", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 204, r.text


def test_rollout_put_list_status_and_check(cli: Cli) -> None:
    cli.ok("scopes", "create", "payments", "--kind", "workspace")
    assert cli.ok("rollout", "put", "prod", "--scope", "payments").stdout.strip() == "environment prod: payments"
    assert [e["name"] for e in cli.json("rollout", "list")] == ["prod"]

    empty = cli.run("rollout", "status", "prod", "--check")
    assert empty.exit_code == 3 and "0 agent(s)" in empty.stdout and "not in sync" in empty.stderr

    desired = cli.json("rollout", "status", "prod")["desired"]["revision"]
    token = _agent_token(cli)
    _report(cli, token, "gw-1", desired)
    _report(cli, token, "gw-2", desired - 1, error="signature does not verify")
    shown = cli.run("rollout", "status", "prod", "--check")
    assert shown.exit_code == 3
    lines = shown.stdout.splitlines()
    assert lines[0].startswith(f"environment prod (payments): desired revision {desired} (committed 20")
    assert lines[1] == "2 agent(s), 2 live, 1 in sync"
    assert lines[2].split()[:5] == ["NAME", "REVISION", "IN_SYNC", "LAG_S", "LIVE"]
    rows = {line.split()[0]: line.split() for line in lines[3:]}
    assert rows["gw-1"][1:3] == [str(desired), "True"] and rows["gw-1"][6] == "gw-1:8181"
    assert rows["gw-2"][1:3] == [str(desired - 1), "False"]
    assert "signature does not verify" in lines[-1] or "signature does not verify" in shown.stdout

    _report(cli, token, "gw-2", desired)
    assert cli.run("rollout", "status", "prod", "--check").exit_code == 0
    assert cli.ok("rollout", "delete", "prod").stdout.strip() == "deleted environment 'prod'"
    missing = cli.run("rollout", "status", "prod")
    assert missing.exit_code != 0 and "not found" in missing.stderr


def test_keys_create_issues_an_agent_key(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLICYHUB_DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        slug = f"cli-{uuid.uuid4().hex[:8]}"
        assert runner.invoke(cli_app, ["orgs", "create", slug]).exit_code == 0
        created = runner.invoke(cli_app, ["keys", "create", "--org", slug, "--role", "agent", "-o", "json"])
        assert created.exit_code == 0, created.output
        assert json.loads(created.stdout)["role"] == "agent"
        wrong = runner.invoke(cli_app, ["keys", "create", "--org", slug, "--role", "robot"])
        assert wrong.exit_code != 0 and "viewer, editor, admin, agent" in wrong.output
    finally:
        get_settings.cache_clear()
