"""``policyhub policies ...`` against a real server: writes, reads, history, errors and exit codes."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.cli.conftest import Cli

PolicyFile = Callable[..., str]


def _put(cli: Cli, policy_file: PolicyFile, name: str, spec: dict[str, Any], **fields: Any) -> dict[str, Any]:
    path = policy_file({"name": name, "type": "document", "spec": spec, **fields}, name=f"{name}.yaml")
    return cli.json("policies", "put", "-f", path)


def _etag(cli: Cli, ref: str) -> str:
    match = re.search(r"^ETAG:\s+(\S+)$", cli.ok("policies", "get", ref).stdout, re.M)
    assert match, "get shows the ETag"
    return match.group(1)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- put / get --------------------------------------------------------------------------------------
def test_put_creates_then_updates_with_a_new_version(cli: Cli, policy_file: PolicyFile) -> None:
    path = policy_file(
        {"name": "max-replicas", "type": "document", "spec": {"max": 3}, "labels": {"env": "prod"}, "comment": "first"}
    )
    created = cli.ok("policies", "put", "-f", path)
    assert "created policy 'max-replicas' (version 1)" in created.stdout
    assert re.search(r"^SPEC:\n  max: 3$", created.stdout, re.M)

    path = policy_file({"name": "max-replicas", "type": "document", "spec": {"max": 5}, "labels": {"env": "prod"}})
    updated = cli.ok("policies", "put", "-f", path)
    assert "updated policy 'max-replicas' (version 2, revision 2)" in updated.stdout

    doc = cli.json("policies", "get", "max-replicas")
    assert (doc["version"], doc["spec"], doc["labels"]) == (2, {"max": 5}, {"env": "prod"})


def test_put_reads_json_from_stdin_with_name_option(cli: Cli) -> None:
    body = json.dumps({"type": "document", "spec": {"a": 1}})
    result = cli.run("policies", "put", "-f", "-", "--name", "from-stdin", "-o", "json", input=body)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["name"] == "from-stdin"
    assert "created policy 'from-stdin'" in result.stderr


def test_put_unchanged_keeps_version_and_get_by_id(cli: Cli, policy_file: PolicyFile) -> None:
    first = _put(cli, policy_file, "same", {"x": 1})
    again = _put(cli, policy_file, "same", {"x": 1})
    assert (again["version"], again["revision"]) == (1, first["revision"])
    # The server says whether a write changed anything (PolicyHub-Changed); the CLI repeats it (issue 16).
    table = cli.ok("policies", "put", "-f", policy_file({"name": "same", "type": "document", "spec": {"x": 1}}))
    assert table.stdout.startswith("policy 'same' unchanged (version 1, revision 1)\n")
    assert "updated" not in table.stdout
    quiet = cli.run("policies", "patch", "same", "--merge", '{"spec": {"x": 1}}', "-o", "json")
    assert quiet.exit_code == 0 and quiet.stderr.startswith("policy 'same' unchanged")
    changed = cli.ok("policies", "put", "-f", policy_file({"name": "same", "type": "document", "spec": {"x": 2}}))
    assert changed.stdout.startswith("updated policy 'same' (version 2, revision 2)")
    by_id = cli.json("policies", "get", first["id"])
    assert by_id["name"] == "same"


def test_put_dry_run_writes_nothing(cli: Cli, policy_file: PolicyFile) -> None:
    path = policy_file({"name": "dry", "type": "document", "spec": {"a": 1}})
    result = cli.ok("policies", "put", "-f", path, "--dry-run")
    assert "dry run: would create policy 'dry'" in result.stdout
    assert 'add /spec = {"a": 1}' in result.stdout
    missing = cli.run("policies", "get", "dry")
    assert missing.exit_code == 1
    assert "404 Not found" in missing.stderr


def test_get_json_has_the_etag_for_the_next_write(cli: Cli, policy_file: PolicyFile) -> None:
    written = _put(cli, policy_file, "tagged", {"a": 1})
    doc = cli.json("policies", "get", "tagged")
    assert doc["etag"] == _etag(cli, "tagged") and doc["etag"].startswith('"')
    assert written["etag"] == doc["etag"]  # writes with -o json carry it too
    moved = cli.json("policies", "patch", "tagged", "--merge", '{"spec": {"a": 2}}', "--if-match", doc["etag"])
    assert moved["etag"] != doc["etag"] and moved["etag"] == cli.json("policies", "get", "tagged")["etag"]
    stale = cli.run("policies", "patch", "tagged", "--merge", '{"spec": {"a": 3}}', "--if-match", doc["etag"])
    assert stale.exit_code == 1 and "412" in stale.stderr


def test_get_round_trips_into_put(cli: Cli, policy_file: PolicyFile) -> None:
    _put(cli, policy_file, "round", {"a": 1})
    doc = cli.json("policies", "get", "round")
    doc["spec"] = {"a": 2}
    result = cli.run("policies", "put", "-f", "-", "-o", "json", input=json.dumps(doc))
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["version"] == 2


def test_put_validation_error_names_the_field(cli: Cli, policy_file: PolicyFile) -> None:
    path = policy_file({"name": "bad", "type": "document", "spec": {"a": 1}, "colour": "red"})
    result = cli.run("policies", "put", "-f", path)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: 400 Invalid input: ")
    assert "colour" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# -- list -------------------------------------------------------------------------------------------
def test_list_filters_and_follows_pages(cli: Cli, policy_file: PolicyFile) -> None:
    for name, env in (("p-a", "prod"), ("p-b", "dev"), ("p-c", "prod")):
        _put(cli, policy_file, name, {"n": name}, labels={"env": env})

    table = cli.ok("policies", "list").stdout.splitlines()
    assert table[0].split()[:3] == ["NAME", "TYPE", "SCOPE"]
    assert [line.split()[0] for line in table[1:]] == ["p-a", "p-b", "p-c"]

    one = cli.run("policies", "list", "--limit", "1")
    assert [line.split()[0] for line in one.stdout.splitlines()[1:]] == ["p-a"]
    assert "--page-token" in one.stderr
    page = cli.json("policies", "list", "--limit", "1")
    assert len(page["items"]) == 1 and page["next_page_token"]

    everything = cli.json("policies", "list", "--limit", "1", "--all")
    assert [p["name"] for p in everything["items"]] == ["p-a", "p-b", "p-c"]
    assert everything["next_page_token"] is None

    prod = cli.json("policies", "list", "--selector", "env=prod", "--type", "document")
    assert [p["name"] for p in prod["items"]] == ["p-a", "p-c"]


def test_delete_archives_and_list_archived(cli: Cli, policy_file: PolicyFile) -> None:
    _put(cli, policy_file, "old", {"a": 1})
    _put(cli, policy_file, "live", {"a": 1})
    assert "archived policy 'old'" in cli.ok("policies", "delete", "old").stdout
    assert [p["name"] for p in cli.json("policies", "list")["items"]] == ["live"]
    archived = cli.json("policies", "list", "--archived")["items"]
    assert [p["name"] for p in archived] == ["old"]
    assert archived[0]["id"] in cli.ok("policies", "list", "--archived").stdout
    assert "restored policy 'old'" in cli.ok("policies", "unarchive", "old").stdout


# -- patch ------------------------------------------------------------------------------------------
def test_patch_merge_and_json_patch(cli: Cli, policy_file: PolicyFile, tmp_path: Path) -> None:
    _put(cli, policy_file, "patched", {"max": 3, "keep": True})
    merged = cli.ok("policies", "patch", "patched", "--merge", '{"spec": {"max": 4}}', "--comment", "bump")
    assert "patched policy 'patched' (version 2" in merged.stdout
    ops = tmp_path / "ops.yaml"
    ops.write_text("- {op: test, path: /spec/max, value: 4}\n- {op: replace, path: /spec/max, value: 9}\n")
    cli.ok("policies", "patch", "patched", "--json-patch", f"@{ops}")
    doc = cli.json("policies", "get", "patched")
    assert (doc["version"], doc["spec"]) == (3, {"max": 9, "keep": True})
    assert cli.json("policies", "history", "patched")["versions"][1]["comment"] == "bump"


def test_failed_patch_test_op_is_409_and_changes_nothing(cli: Cli, policy_file: PolicyFile) -> None:
    before = _put(cli, policy_file, "guarded", {"max": 3})
    ops = json.dumps(
        [{"op": "test", "path": "/spec/max", "value": 99}, {"op": "replace", "path": "/spec/max", "value": 1}]
    )
    result = cli.run("policies", "patch", "guarded", "--json-patch", ops)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: 409 Patch test failed: ")
    after = cli.json("policies", "get", "guarded")
    assert (after["revision"], after["spec"]) == (before["revision"], {"max": 3})


def test_stale_if_match_is_412(cli: Cli, policy_file: PolicyFile) -> None:
    _put(cli, policy_file, "cond", {"v": 1})
    tag = _etag(cli, "cond")
    cli.ok("policies", "patch", "cond", "--merge", '{"spec": {"v": 2}}', "--if-match", tag)
    stale = cli.run("policies", "patch", "cond", "--merge", '{"spec": {"v": 3}}', "--if-match", tag)
    assert stale.exit_code == 1
    assert stale.stderr.startswith("error: 412 Precondition failed: If-Match does not match")
    bare = tag.strip('"')  # as a shell would pass it without escaping the quotes
    path = policy_file({"name": "cond", "spec": {"v": 4}})
    put_stale = cli.run("policies", "put", "-f", path, "--if-match", bare)
    assert put_stale.exit_code == 1 and "412" in put_stale.stderr
    assert cli.json("policies", "get", "cond")["spec"] == {"v": 2}


def test_patch_needs_exactly_one_patch_option(cli: Cli) -> None:
    neither = cli.run("policies", "patch", "x")
    assert neither.exit_code == 2 and "exactly one of --merge or --json-patch" in neither.stderr
    bad_json = cli.run("policies", "patch", "x", "--merge", "{nope")
    assert bad_json.exit_code == 2 and "--merge is not valid JSON" in bad_json.stderr


# -- history / diff / rollback ----------------------------------------------------------------------
def test_history_diff_and_rollback(cli: Cli, policy_file: PolicyFile) -> None:
    _put(cli, policy_file, "hist", {"max": 3, "name": "x"}, comment="first")
    _put(cli, policy_file, "hist", {"max": 5, "name": "x"}, comment="raise")

    rows = cli.ok("policies", "history", "hist").stdout.splitlines()
    assert rows[0].split() == ["VERSION", "CREATED_AT", "CREATED_BY_NAME", "COMMENT", "CONTENT_HASH"]
    assert [r.split()[0] for r in rows[1:]] == ["1", "2"]
    assert "raise" in rows[2] and "admin" in rows[2]

    unified = cli.ok("policies", "diff", "hist", "--from", "1").stdout
    assert "-max: 3" in unified and "+max: 5" in unified and "--- hist@v1" in unified
    full = cli.json("policies", "diff", "hist", "--from", "1", "--to", "2")
    assert full["json_patch"] == [{"op": "replace", "path": "/max", "value": 5}]

    rolled = cli.ok("policies", "rollback", "hist", "--to", "1")
    assert "rolled back policy 'hist' to version 1 (version 3" in rolled.stdout
    versions = cli.json("policies", "history", "hist")["versions"]
    assert [(v["version"], v["spec"]["max"]) for v in versions] == [(1, 3), (2, 5), (3, 3)]
    assert versions[2]["comment"] == "rollback to version 1"

    with_events = cli.json("policies", "history", "hist", "--events")
    assert set(with_events) == {"versions", "events"}  # the same shape as without --events, plus events
    assert with_events["versions"] == versions
    assert [e["type"] for e in with_events["events"]] == ["creation", "new_version", "rollback"]
    assert "rollback" in cli.ok("policies", "history", "hist", "--events").stdout


def test_history_follows_the_versions_pages(cli: Cli, policy_file: PolicyFile) -> None:
    """The versions list answers pages of 50 (the next page's token in a header): history shows them all."""
    for n in range(55):
        _put(cli, policy_file, "long", {"n": n})
    versions = cli.json("policies", "history", "long")["versions"]
    assert [v["version"] for v in versions] == list(range(1, 56))


def test_rollback_to_missing_version_is_404(cli: Cli, policy_file: PolicyFile) -> None:
    _put(cli, policy_file, "rb", {"a": 1})
    result = cli.run("policies", "rollback", "rb", "--to", "7")
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: 404 Not found: policy 'rb' has no version 7"


# -- authentication, connection and input problems --------------------------------------------------
def test_missing_token_is_401(cli: Cli) -> None:
    result = cli.run("policies", "list", POLICYHUB_TOKEN=None)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: 401 Unauthenticated: missing credentials")
    assert "POLICYHUB_TOKEN" in result.stderr


def test_wrong_token_is_401(cli: Cli) -> None:
    result = cli.run("policies", "get", "x", "--token", "phk_not-a-real-key")
    assert result.exit_code == 1 and result.stderr.startswith("error: 401 ")


def test_unreachable_server_is_exit_2(cli: Cli) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    result = cli.run("policies", "list", POLICYHUB_URL=url)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: cannot connect to PolicyHub at {url}")
    assert "Traceback" not in result.output


def test_bad_url_and_bad_files_are_exit_2(cli: Cli, policy_file: PolicyFile) -> None:
    assert cli.run("policies", "list", "--url", "localhost:8181").exit_code == 2
    missing = cli.run("policies", "put", "-f", "/nonexistent/policy.yaml")
    assert missing.exit_code == 2 and "cannot read /nonexistent/policy.yaml" in missing.stderr
    nameless = cli.run("policies", "put", "-f", policy_file({"type": "document", "spec": {}}))
    assert nameless.exit_code == 2 and "--name" in nameless.stderr
    broken = cli.run("policies", "put", "-f", policy_file("{not json", name="p.json"))
    assert broken.exit_code == 2 and "is not valid JSON" in broken.stderr
    slashed = cli.run("policies", "get", "x/versions")  # would reach another route as x%2Fversions
    assert slashed.exit_code == 2 and "invalid name or id" in slashed.stderr


def test_unknown_org_is_404(cli: Cli) -> None:
    result = cli.run("policies", "list", "--org", "nope")
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: 404 Not found: org 'nope' not found"


def test_yaml_dates_become_strings(cli: Cli, policy_file: PolicyFile) -> None:
    path = policy_file("name: dated\ntype: document\nspec:\n  since: 2024-05-01\n")
    cli.ok("policies", "put", "-f", path)
    assert cli.json("policies", "get", "dated")["spec"] == {"since": "2024-05-01"}
