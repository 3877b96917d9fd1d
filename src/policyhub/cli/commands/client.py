"""``policyhub policies ...``: talk to a running server over HTTP (``/v1/orgs/{org}/policies``).

The server, org and key come from ``--url``/``--org``/``--token`` or ``POLICYHUB_URL``,
``POLICYHUB_ORG`` and ``POLICYHUB_TOKEN``. Output is a human view by default; ``-o json`` prints the
server's JSON (write commands then report what they did on stderr). Exit codes: 1 when the server
refuses (the problem's status, title and detail are printed), 2 for usage and connection problems.
"""

from __future__ import annotations

from typing import Annotated

import typer

from policyhub.cli.client_http import USAGE_ERROR, ApiClient, CliError, Reply
from policyhub.cli.client_input import json_or_file, load_mapping
from policyhub.cli.client_options import AllPages, Limit, PageToken, client_command, if_match_value
from policyhub.cli.client_render import (
    ARCHIVED_COLUMNS,
    EVENT_COLUMNS,
    POLICY_COLUMNS,
    VERSION_COLUMNS,
    describe,
    dry_run_summary,
    event_row,
    policy_row,
    version_row,
    write_summary,
)
from policyhub.cli.output import Format, emit, emit_page, show

policies_app = typer.Typer(
    help="Policies on a running server (POLICYHUB_URL, POLICYHUB_ORG, POLICYHUB_TOKEN).",
    add_completion=False,
    no_args_is_help=True,
)

MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"

Ref = Annotated[str, typer.Argument(help="policy id or name", show_default=False)]
IfMatch = Annotated[
    str | None,
    typer.Option("--if-match", help="write only if the policy's ETag is this one (quotes optional); else 412"),
]
DryRun = Annotated[bool, typer.Option("--dry-run", help="validate and show what would change; write nothing")]
Comment = Annotated[str, typer.Option("--comment", help="comment recorded on the new version")]


def _report_write(reply: Reply, output: Format, done: str, note: str = "", details: bool = True) -> None:
    """Say what a write did (stderr with ``-o json``), then show the policy or the dry run's diff."""
    body = reply.mapping
    dry = bool(body.get("dry_run"))
    summary = (
        dry_run_summary(reply.status, body) if dry else write_summary(done, reply.status, body, note, reply.changed)
    )
    if output == Format.json:
        typer.echo(summary.splitlines()[0], err=True)
        emit({**body, "etag": reply.etag}, Format.json)
        return
    typer.echo(summary)
    if details and not dry:
        typer.echo(describe(body, reply.etag))


@client_command(policies_app, "list")
def list_policies(
    api: ApiClient,
    output: Format,
    type_: Annotated[str | None, typer.Option("--type", help="only this policy type")] = None,
    scope: Annotated[str | None, typer.Option(help="scope path; includes its descendants")] = None,
    selector: Annotated[str | None, typer.Option(help="labels, e.g. env=prod,tier!=web,!legacy")] = None,
    archived: Annotated[bool, typer.Option("--archived", help="archived policies only")] = False,
    limit: Limit = None,
    all_pages: AllPages = False,
    page_token: PageToken = None,
) -> None:
    """List policies (one page, or every page with --all)."""
    params = {
        "type": type_,
        "scope": scope,
        "label_selector": selector,
        "archived": archived,
        "limit": limit,
        "page_token": page_token,
    }
    items, next_token = api.page_items(api.policies(), params, all_pages)
    emit_page(items, next_token, output, ARCHIVED_COLUMNS if archived else POLICY_COLUMNS, "policies", policy_row)


@client_command(policies_app, "get")
def get_policy(api: ApiClient, output: Format, ref: Ref) -> None:
    """Show one policy: its fields, ETag and spec (-o json: the server's JSON plus "etag", for --if-match)."""
    policy = api.call("GET", api.policies(ref))
    body = policy.mapping
    show({**body, "etag": policy.etag}, output, lambda _: typer.echo(describe(body, policy.etag)))


@client_command(policies_app, "put")
def put_policy(
    api: ApiClient,
    output: Format,
    file: Annotated[str, typer.Option("-f", "--file", help="JSON or YAML body of the PUT ('-' for stdin)")],
    name: Annotated[str | None, typer.Option(help="policy to create or replace (default: its name)")] = None,
    if_match: IfMatch = None,
    dry_run: DryRun = False,
) -> None:
    """Create or fully replace a policy from a file (omitted optional fields reset to defaults).

    The output of `get -o json` can be edited and put back: its "etag" is not a policy field and is
    not sent (pass it as --if-match to make the write conditional).
    """
    doc = load_mapping(file)
    doc.pop("etag", None)
    ref = name or doc.get("name")
    if not isinstance(ref, str) or not ref:
        raise CliError("the file has no 'name' (a string); add one or pass --name", USAGE_ERROR)
    reply = api.call("PUT", api.policies(ref), params={"dry_run": dry_run}, body=doc, if_match=if_match_value(if_match))
    _report_write(reply, output, "updated")


@client_command(policies_app, "patch")
def patch_policy(
    api: ApiClient,
    output: Format,
    ref: Ref,
    merge: Annotated[str | None, typer.Option(help="RFC 7396 merge patch: JSON, or @FILE")] = None,
    json_patch: Annotated[str | None, typer.Option(help="RFC 6902 operations: JSON, or @FILE")] = None,
    if_match: IfMatch = None,
    comment: Comment = "",
    dry_run: DryRun = False,
) -> None:
    """Change part of a policy with a merge patch or a JSON Patch (a failed 'test' op changes nothing)."""
    if (merge is None) == (json_patch is None):
        raise CliError("give exactly one of --merge or --json-patch", USAGE_ERROR)
    if merge is not None:
        body, media = json_or_file(merge, "--merge"), MERGE_PATCH
    else:
        body, media = json_or_file(json_patch or "", "--json-patch"), JSON_PATCH
    reply = api.call(
        "PATCH",
        api.policies(ref),
        params={"dry_run": dry_run, "comment": comment or None},
        body=body,
        content_type=media,
        if_match=if_match_value(if_match),
    )
    _report_write(reply, output, "patched")


@client_command(policies_app, "history")
def history(
    api: ApiClient,
    output: Format,
    ref: Ref,
    events: Annotated[bool, typer.Option("--events", help="also list the audit events")] = False,
) -> None:
    """A policy's versions, oldest first (and, with --events, its audit events).

    -o json: always an object, {"versions": [...]}, with "events": [...] as well when --events is given.
    """
    versions = api.listing(api.policies(ref, "versions"))
    found = api.listing(api.policies(ref, "events")) if events else []
    if output == Format.json:
        emit({"versions": versions, "events": found} if events else {"versions": versions}, output)
        return
    emit([version_row(v) for v in versions], output, VERSION_COLUMNS)
    if events:
        typer.echo("")
        emit([event_row(e) for e in found], output, EVENT_COLUMNS)


@client_command(policies_app, "diff")
def diff(
    api: ApiClient,
    output: Format,
    ref: Ref,
    from_version: Annotated[int, typer.Option("--from", min=1, help="old version")],
    to_version: Annotated[int | None, typer.Option("--to", min=1, help="new version (default: now)")] = None,
) -> None:
    """The unified diff of two versions' specs (-o json: the full answer, with a JSON Patch)."""
    params = {"from": from_version, "to": to_version}
    body = api.call("GET", api.policies(ref, "diff"), params=params).mapping
    if output == Format.json:
        emit(body, output)
    elif body.get("unified"):
        typer.echo(body["unified"].rstrip("\n"))
    else:
        typer.echo(f"versions {body.get('from_version')} and {body.get('to_version')} have the same spec")


@client_command(policies_app, "rollback")
def rollback(
    api: ApiClient,
    output: Format,
    ref: Ref,
    to: Annotated[int, typer.Option("--to", min=1, help="the version to restore")],
    comment: Comment = "",
    if_match: IfMatch = None,
    dry_run: DryRun = False,
) -> None:
    """Make an old version's content current again, as a new version."""
    reply = api.call(
        "POST",
        api.policies(ref, "rollback"),
        params={"dry_run": dry_run},
        body={"version": to, "comment": comment},
        if_match=if_match_value(if_match),
    )
    _report_write(reply, output, "rolled back", note=f" to version {to}")


@client_command(policies_app, "delete")
def delete(
    api: ApiClient,
    output: Format,
    ref: Ref,
    if_match: IfMatch = None,
    dry_run: DryRun = False,
) -> None:
    """Archive a policy (its history is kept; 'unarchive' restores it)."""
    reply = api.call("DELETE", api.policies(ref), params={"dry_run": dry_run}, if_match=if_match_value(if_match))
    _report_write(reply, output, "archived", details=False)


@client_command(policies_app, "unarchive")
def unarchive(
    api: ApiClient,
    output: Format,
    ref: Ref,
    if_match: IfMatch = None,
    dry_run: DryRun = False,
) -> None:
    """Restore an archived policy (its name must be free among live policies)."""
    reply = api.call(
        "POST", api.policies(ref, "unarchive"), params={"dry_run": dry_run}, if_match=if_match_value(if_match)
    )
    _report_write(reply, output, "restored")
