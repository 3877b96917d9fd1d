"""The database commands find the server's database or say in one line how to (issue 16, item 3); keys list
shows each key's scope; --org defaults from POLICYHUB_ORG; each command has help (item 9)."""

from __future__ import annotations

import json
import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from policyhub.cli.main import app as cli
from policyhub.settings import get_settings
from tests.conftest import OrgClient

#: Every command that works on the database directly, with arguments that would otherwise be valid.
DATABASE_COMMANDS = [
    ["orgs", "list"],
    ["orgs", "create", "acme"],
    ["keys", "list", "--org", "default"],
    ["keys", "create", "--org", "default", "--role", "admin"],
    ["keys", "revoke", "some-key-id", "--org", "default"],
    ["audit", "verify"],
    ["audit", "checkpoint"],
]


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A current directory with no database in it, and no POLICYHUB_DATABASE_URL: the default applies."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("POLICYHUB_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def invoke(*args: str, **env: str) -> Result:
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(cli, list(args), env=env or None)
    finally:
        get_settings.cache_clear()


def one_line_error(result: Result) -> str:
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert "Traceback" not in result.output and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("error: ")
    return line


@pytest.mark.parametrize("args", DATABASE_COMMANDS, ids=" ".join)
def test_a_missing_database_is_named_and_never_created(elsewhere: Path, args: list[str]) -> None:
    line = one_line_error(invoke(*args))
    where = elsewhere / "var" / "policyhub.db"
    assert f"no PolicyHub database at {where}" in line
    assert "relative to the current directory" in line and "`make run`" in line
    assert "POLICYHUB_DATABASE_URL=sqlite:////abs/path/policyhub.db" in line
    assert list(elsewhere.iterdir()) == []  # no var/, no empty database, no audit key file


def test_a_missing_absolute_path_is_named(elsewhere: Path) -> None:
    where = elsewhere / "moved" / "policyhub.db"
    line = one_line_error(invoke("keys", "list", POLICYHUB_DATABASE_URL=f"sqlite:///{where}"))
    assert f"no PolicyHub database at {where} (POLICYHUB_DATABASE_URL=sqlite:///{where})" in line
    assert not where.parent.exists()


def test_an_unmigrated_database_is_named_and_left_alone(elsewhere: Path) -> None:
    where = elsewhere / "other.db"
    sqlite3.connect(where).close()  # an empty SQLite file, as an earlier version of this bug left behind
    line = one_line_error(invoke("keys", "list", POLICYHUB_DATABASE_URL=f"sqlite:///{where}"))
    assert str(where) in line and "never migrated" in line and "`policyhub migrate`" in line
    with sqlite3.connect(where) as conn:
        assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)


def test_an_unreachable_server_database_is_one_line_without_its_password(elsewhere: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql+psycopg://ops:s3cret-pw@127.0.0.1:{port}/policyhub"
    line = one_line_error(invoke("orgs", "list", POLICYHUB_DATABASE_URL=url))
    assert f"postgresql+psycopg://ops:***@127.0.0.1:{port}/policyhub" in line
    assert "s3cret-pw" not in line and "POLICYHUB_DATABASE_URL" in line


def test_migrate_still_creates_the_database(elsewhere: Path) -> None:
    result = invoke("migrate")
    assert result.exit_code == 0, result.output
    assert (elsewhere / "var" / "policyhub.db").is_file()
    listed = invoke("orgs", "list", "-o", "json")
    assert listed.exit_code == 0 and json.loads(listed.stdout) == []


@pytest.fixture
def db_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("POLICYHUB_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


def test_keys_list_shows_the_scope_and_org_comes_from_policyhub_org(db_env: str, org: OrgClient) -> None:
    assert org.post("scopes", json={"kind": "workspace", "key": "payments"}).status_code == 201
    assert org.post("scopes", json={"kind": "repo", "key": "api", "parent": "payments"}).status_code == 201
    created = invoke(
        "keys", "create", "--role", "editor", "--scope", "payments/api", "-o", "json", POLICYHUB_ORG=org.slug
    )
    assert created.exit_code == 0, created.output
    key_id = json.loads(created.stdout)["id"]

    rows = json.loads(invoke("keys", "list", "-o", "json", POLICYHUB_ORG=org.slug).stdout)
    assert {r["id"]: r["scope"] for r in rows if r["role"] == "editor"} == {key_id: "payments/api"}
    assert {r["scope"] for r in rows if r["role"] == "admin"} == {None}  # the org-level admin key

    table = invoke("keys", "list", POLICYHUB_ORG=org.slug).stdout.splitlines()
    assert table[0].split() == ["ID", "PREFIX", "NAME", "ROLE", "SCOPE", "REVOKED", "LAST_USED_AT"]
    assert any(line.startswith(key_id) and " payments/api " in line for line in table[1:])

    assert invoke("keys", "revoke", key_id, POLICYHUB_ORG=org.slug).exit_code == 0
    flag_wins = invoke("keys", "list", "--org", "no-such-org", POLICYHUB_ORG=org.slug)
    assert flag_wins.exit_code == 1 and "'no-such-org' not found" in flag_wins.stderr


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["orgs", "--help"], "List the orgs"),
        (["keys", "--help"], "List the org's keys"),
        (["keys", "list", "--help"], "POLICYHUB_ORG"),
        (["keys", "revoke", "--help"], "the key's id"),
        (["keys", "revoke", "--help"], "POLICYHUB_ORG"),
    ],
)
def test_database_commands_have_help(args: list[str], text: str) -> None:
    result = invoke(*args)
    assert result.exit_code == 0 and text in " ".join(result.stdout.split())
