"""``policyhub scopes|decisions|events|schemas|settings ...`` against a real server (issue 16, item 7): what a
newcomer had to guess as HTTP bodies is a command with help, a table, ``-o json`` and the usual exit codes."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Cli

PolicyFile = Callable[..., str]


def _lines(text: str) -> list[list[str]]:
    return [line.split() for line in text.splitlines()]


# -- scopes -----------------------------------------------------------------------------------------
def test_scopes_create_nested_list_and_get(cli: Cli) -> None:
    top = cli.ok("scopes", "create", "payments", "--kind", "workspace")
    assert top.stdout.startswith("created scope 'payments' (workspace, id ")
    nested = cli.json(
        "scopes", "create", "api", "--kind", "repo", "--parent", "payments", "--attributes", '{"tier": 1}'
    )
    assert (nested["path"], nested["kind"], nested["attributes"]) == ("payments/api", "repo", {"tier": 1})

    rows = _lines(cli.ok("scopes", "list").stdout)
    assert rows[0] == ["PATH", "KIND", "NAME", "ID", "ATTRIBUTES"]
    assert [r[0] for r in rows[1:]] == ["payments", "payments/api"]
    assert [s["path"] for s in cli.json("scopes", "list", "--kind", "repo")] == ["payments/api"]
    assert cli.json("scopes", "get", "payments/api")["id"] == nested["id"]
    assert cli.json("scopes", "get", nested["id"])["path"] == "payments/api"

    missing_parent = cli.run("scopes", "create", "x", "--kind", "repo", "--parent", "nowhere")
    assert missing_parent.exit_code == 1 and missing_parent.stderr.startswith("error: 400 ")
    assert "parent: no scope 'nowhere'" in missing_parent.stderr
    bad_attributes = cli.run("scopes", "create", "x", "--kind", "repo", "--attributes", "[1]")
    assert bad_attributes.exit_code == 2 and "--attributes must be a JSON object" in bad_attributes.stderr
    assert "deleted scope 'payments/api'" in cli.ok("scopes", "delete", "payments/api").stdout
    assert cli.run("scopes", "get", "payments/api").exit_code == 1


def test_policy_at_a_nested_scope(cli: Cli, policy_file: PolicyFile) -> None:
    cli.ok("scopes", "create", "ws", "--kind", "workspace")
    cli.ok("scopes", "create", "app", "--kind", "application", "--parent", "ws")
    path = policy_file({"name": "scoped", "type": "document", "scope": "ws/app", "spec": {"a": 1}})
    assert cli.json("policies", "put", "-f", path)["scope"] == "ws/app"


# -- decisions and the decision log ------------------------------------------------------------------
def _deny_evil(cli: Cli, policy_file: PolicyFile) -> None:
    body = {"name": "no-evil", "type": "syftspace.access", "spec": {"denied_users": ["*@evil.example"]}}
    cli.ok("policies", "put", "-f", policy_file(body))


def _logged(cli: Cli, *args: str, count: int = 1) -> list[dict[str, Any]]:
    """The decision log (written a few tens of milliseconds after each answer)."""
    deadline = time.monotonic() + 10
    while True:
        items: list[dict[str, Any]] = cli.json("decisions", "list", *args)["items"]
        if len(items) >= count or time.monotonic() > deadline:
            return items
        time.sleep(0.05)


def test_decisions_ask_from_a_file_or_inline(cli: Cli, policy_file: PolicyFile, tmp_path: Path) -> None:
    _deny_evil(cli, policy_file)
    request = tmp_path / "input.json"
    request.write_text(json.dumps({"method": "GET", "path": "/q", "user": "mallory@evil.example"}))
    denied = cli.json("decisions", "ask", "--point", "http_request", "-f", str(request))
    assert denied["decision"] == "deny"
    assert [(r["name"], r["effect"]) for r in denied["results"]] == [("no-evil", "deny")]

    table = cli.ok("decisions", "ask", "--point", "http_request", "-f", str(request)).stdout
    assert table.startswith("DECISION: deny\nID:")
    assert ["NAME", "TYPE", "VERSION", "EFFECT", "STATUS", "REASONS"] in _lines(table)
    assert "no-evil" in table and "syftspace.access" in table

    allowed = cli.json("decisions", "ask", "--point", "http_request", "--input", '{"user": "ann@good.example"}')
    assert allowed["decision"] == "allow"

    bad_field = cli.run("decisions", "ask", "--point", "http_request", "--input", '{"bogus": 1}')
    assert bad_field.exit_code == 1 and bad_field.stderr.startswith("error: 400 ") and "bogus" in bad_field.stderr
    neither = cli.run("decisions", "ask", "--point", "http_request")
    assert neither.exit_code == 2 and "exactly one of -f FILE or --input JSON" in neither.stderr
    both = cli.run("decisions", "ask", "--point", "http_request", "-f", str(request), "--input", "{}")
    assert both.exit_code == 2
    not_json = cli.run("decisions", "ask", "--point", "http_request", "--input", "{user")
    assert not_json.exit_code == 2 and "--input is not valid JSON" in not_json.stderr


def test_decisions_list_and_get(cli: Cli, policy_file: PolicyFile) -> None:
    _deny_evil(cli, policy_file)
    asked = cli.json("decisions", "ask", "--point", "http_request", "--input", '{"user": "eve@evil.example"}')
    [logged] = _logged(cli, "--decision", "deny")
    assert logged["id"] == asked["id"] and logged["point"] == "http_request"

    rows = _lines(cli.ok("decisions", "list", "--decision", "deny").stdout)
    assert rows[0] == ["AT", "ID", "POINT", "SCOPE", "DECISION", "SOURCE"]
    assert rows[1][1:5] == [asked["id"], "http_request", "-", "deny"]
    assert cli.json("decisions", "list", "--policy", "no-evil")["items"][0]["id"] == asked["id"]

    one = cli.json("decisions", "get", asked["id"])
    assert one["input"]["user"] == "eve@evil.example" and one["results"][0]["name"] == "no-evil"
    shown = cli.ok("decisions", "get", asked["id"]).stdout
    assert shown.startswith("DECISION: deny\n") and "POINT:" in shown and "no-evil" in shown
    missing = cli.run("decisions", "get", "00000000-0000-4000-8000-000000000000")
    assert missing.exit_code == 1 and missing.stderr.startswith("error: 404 ")


# -- events -----------------------------------------------------------------------------------------
def test_events_list_filters_and_pages(cli: Cli, policy_file: PolicyFile) -> None:
    for name in ("e-1", "e-2"):
        cli.ok("policies", "put", "-f", policy_file({"name": name, "type": "document", "spec": {"n": 1}}))
    cli.ok("scopes", "create", "ev", "--kind", "workspace")

    everything = cli.json("events", "list", "--all", "--limit", "1")
    assert everything["next_page_token"] is None and len(everything["items"]) >= 3
    seqs = [e["seq"] for e in everything["items"]]
    assert seqs == sorted(seqs)

    created = cli.json("events", "list", "--type", "creation", "--object-kind", "policy")["items"]
    assert [e["data"].get("name") for e in created] == ["e-1", "e-2"]

    one = cli.run("events", "list", "--limit", "1")
    assert one.exit_code == 0 and "--page-token" in one.stderr
    header = _lines(one.stdout)[0]
    assert header[:4] == ["SEQ", "AT", "TYPE", "OBJECT_KIND"]


# -- document schemas -------------------------------------------------------------------------------
SCHEMA = {"title": "Replicas", "type": "object", "properties": {"max": {"type": "integer"}}, "required": ["max"]}


def test_schemas_put_list_get_and_a_policy_checked_against_it(
    cli: Cli, policy_file: PolicyFile, tmp_path: Path
) -> None:
    path = tmp_path / "replicas.yaml"
    path.write_text(json.dumps(SCHEMA))
    assert cli.ok("schemas", "put", "replicas", "-f", str(path)).stdout.strip() == "created document schema 'replicas'"
    assert cli.ok("schemas", "put", "replicas", "-f", str(path)).stdout.strip() == "replaced document schema 'replicas'"

    assert _lines(cli.ok("schemas", "list").stdout) == [
        ["NAME", "TITLE", "TYPE", "BYTES"],
        ["replicas", "Replicas", "object", str(len(json.dumps(SCHEMA, separators=(",", ":"))))],
    ]
    assert cli.json("schemas", "list") == [{"name": "replicas", "schema": SCHEMA}]
    assert cli.json("schemas", "get", "replicas") == {"name": "replicas", "schema": SCHEMA}
    assert "title: Replicas" in cli.ok("schemas", "get", "replicas").stdout

    bad = policy_file({"name": "r", "type": "document", "spec": {"$schema": "replicas", "max": "three"}})
    refused = cli.run("policies", "put", "-f", bad)
    assert refused.exit_code == 1 and refused.stderr.startswith("error: 400 ")
    good = policy_file({"name": "r", "type": "document", "spec": {"$schema": "replicas", "max": 3}})
    cli.ok("policies", "put", "-f", good)

    in_use = cli.run("schemas", "delete", "replicas")
    assert in_use.exit_code == 1 and in_use.stderr.startswith("error: 409 ")
    assert cli.run("schemas", "get", "nope").exit_code == 1


def test_schemas_put_refuses_what_is_not_a_schema(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"type": "object", "properties": {"a": {"type": "no-such-type"}}}))
    result = cli.run("schemas", "put", "bad", "-f", str(path))
    assert result.exit_code == 1 and result.stderr.startswith("error: 400 ")
    assert cli.json("schemas", "list") == []
    missing = cli.run("schemas", "put", "x", "-f", str(tmp_path / "absent.json"))
    assert missing.exit_code == 2 and "cannot read" in missing.stderr


# -- settings ---------------------------------------------------------------------------------------
def test_settings_get_and_set(cli: Cli, policy_file: PolicyFile) -> None:
    assert cli.json("settings", "get")["settings"].get("require_if_match") in (None, False)
    changed = cli.ok("settings", "set", "require_if_match=true")
    assert changed.stdout.startswith("updated settings: require_if_match=true\n")
    assert ["require_if_match", "true"] in _lines(cli.ok("settings", "get").stdout)

    path = policy_file({"name": "guarded", "type": "document", "spec": {"a": 1}})
    cli.ok("policies", "put", "-f", path)  # creating needs no If-Match
    unconditional = cli.run("policies", "put", "-f", path)
    assert unconditional.exit_code == 1 and unconditional.stderr.startswith("error: 428 ")

    assert cli.json("settings", "set", "require_if_match=false")["settings"]["require_if_match"] is False
    unknown = cli.run("settings", "set", "colour=1")
    assert unknown.exit_code == 1 and unknown.stderr.startswith("error: 400 ") and "colour" in unknown.stderr
    malformed = cli.run("settings", "set", "require_if_match")
    assert malformed.exit_code == 2 and "NAME=VALUE" in malformed.stderr


# -- common behaviour -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args",
    [
        ["scopes", "list"],
        ["decisions", "list"],
        ["events", "list"],
        ["schemas", "list"],
        ["settings", "get"],
    ],
    ids=" ".join,
)
def test_each_command_needs_a_key_and_a_server(cli: Cli, args: list[str]) -> None:
    no_key = cli.run(*args, POLICYHUB_TOKEN=None)
    assert no_key.exit_code == 1 and "POLICYHUB_TOKEN" in no_key.stderr
    down = cli.run(*args, POLICYHUB_URL="http://127.0.0.1:9")
    assert down.exit_code == 2 and down.stderr.startswith("error: cannot connect to PolicyHub")


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["scopes", "create"], "--parent"),
        (["scopes", "list"], "--under"),
        (["decisions", "ask"], "--point"),
        (["decisions", "list"], "--decision"),
        (["decisions", "get"], "the decision's id"),
        (["events", "list"], "--type"),
        (["schemas", "put"], "holds the schema itself"),
        (["schemas", "get"], "Show one document schema"),
        (["settings", "set"], "NAME=VALUE"),
        (["settings", "get"], "Show the org's settings"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else "",
)
def test_each_command_has_help(cli: Cli, args: list[str], text: str) -> None:
    shown = " ".join(cli.ok(*args, "--help").stdout.split())
    assert text in shown and "POLICYHUB_ORG" in shown
