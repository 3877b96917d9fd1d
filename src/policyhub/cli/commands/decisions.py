"""``policyhub decisions ...`` and ``policyhub events list``: ask for a decision, read the decision log and
the audit events of a running server (``/v1/orgs/{org}/decisions``, ``/v1/orgs/{org}/events``).

Options, output and exit codes as ``policyhub policies`` (see :mod:`policyhub.cli.commands.client`). A
``deny`` is an answer, not an error: ``decisions ask`` exits 0 with any decision (scripts read
``-o json``'s ``decision``).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from policyhub.cli.client_http import USAGE_ERROR, ApiClient, CliError
from policyhub.cli.client_input import json_or_file, load_mapping
from policyhub.cli.client_options import AllPages, Limit, PageToken, client_command
from policyhub.cli.client_render import EVENT_COLUMNS, event_row
from policyhub.cli.output import Format, emit, emit_page, show

decisions_app = typer.Typer(
    help="Ask for decisions and read the decision log on a running server.", add_completion=False, no_args_is_help=True
)
events_app = typer.Typer(help="The org's audit events on a running server.", add_completion=False, no_args_is_help=True)

RESULT_COLUMNS = ["name", "type", "version", "effect", "status", "reasons"]
LOG_COLUMNS = ["at", "id", "point", "scope", "decision", "source"]


@client_command(decisions_app, "ask")
def ask(
    api: ApiClient,
    output: Format,
    point: Annotated[
        str, typer.Option(help="enforcement point: http_request, environment, lifecycle_gate or ai_content")
    ],
    scope: Annotated[str | None, typer.Option(help="scope path or id (default: the org level only)")] = None,
    file: Annotated[
        str | None, typer.Option("-f", "--file", help="the input: a JSON or YAML file ('-' for stdin)")
    ] = None,
    input_json: Annotated[str | None, typer.Option("--input", help="the input as inline JSON, or @FILE")] = None,
    policy: Annotated[
        list[str] | None, typer.Option("--policy", help="evaluate only this policy (repeat for several)")
    ] = None,
    explain: Annotated[bool, typer.Option("--explain", help="also list the policies that did not apply")] = False,
) -> None:
    """Ask whether something may happen: the policies that apply decide allow, warn or deny.

    The input's fields depend on the point (http_request: method, path, headers, client_ip, user, ...).
    """
    if (file is None) == (input_json is None):
        raise CliError("give the input with exactly one of -f FILE or --input JSON", USAGE_ERROR)
    data = load_mapping(file) if file is not None else json_or_file(input_json or "", "--input")
    if not isinstance(data, dict):
        raise CliError("the input must be a JSON/YAML object", USAGE_ERROR)
    body: dict[str, Any] = {"point": point, "scope": scope, "input": data, "explain": explain}
    if policy:
        body["policies"] = policy
    show(api.call("POST", api.org_path("decisions"), body=body).mapping, output, _show_decision)


@client_command(decisions_app, "list")
def list_decisions(
    api: ApiClient,
    output: Format,
    policy: Annotated[str | None, typer.Option(help="only decisions this policy (id or name) took part in")] = None,
    decision: Annotated[str | None, typer.Option(help="allow, warn or deny")] = None,
    point: Annotated[str | None, typer.Option(help="only this enforcement point")] = None,
    source: Annotated[str | None, typer.Option(help="only decisions asked through this face (e.g. v1)")] = None,
    since: Annotated[str | None, typer.Option(help="only decisions at or after this time (ISO 8601)")] = None,
    limit: Limit = None,
    all_pages: AllPages = False,
    page_token: PageToken = None,
) -> None:
    """The decision log, newest first (every warn and deny; plain allows as sampled by the server)."""
    params = {
        "policy": policy,
        "decision": decision,
        "point": point,
        "source": source,
        "since": since,
        "limit": limit,
        "page_token": page_token,
    }
    items, next_token = api.page_items(api.org_path("decisions"), params, all_pages)
    emit_page(items, next_token, output, LOG_COLUMNS, "decisions")


@client_command(decisions_app, "get")
def get_decision(
    api: ApiClient,
    output: Format,
    decision_id: Annotated[str, typer.Argument(help="the decision's id (see `decisions list`)", show_default=False)],
) -> None:
    """One logged decision: when, where, the input as the log keeps it, each policy's verdict."""
    show(api.call("GET", api.org_path("decisions", decision_id)).mapping, output, _show_decision)


@client_command(events_app, "list")
def list_events(
    api: ApiClient,
    output: Format,
    type_: Annotated[
        list[str] | None, typer.Option("--type", help="only these event types (repeat, or comma-separate)")
    ] = None,
    object_kind: Annotated[str | None, typer.Option(help="only events about this kind of object (policy, ...)")] = None,
    since: Annotated[str | None, typer.Option(help="only events at or after this time (ISO 8601)")] = None,
    until: Annotated[str | None, typer.Option(help="only events before this time (ISO 8601)")] = None,
    limit: Limit = None,
    all_pages: AllPages = False,
    page_token: PageToken = None,
) -> None:
    """The org's audit events, oldest first (one page, or every page with --all)."""
    params = {
        "type": ",".join(type_) if type_ else None,
        "object_kind": object_kind,
        "since": since,
        "until": until,
        "limit": limit,
        "page_token": page_token,
    }
    items, next_token = api.page_items(api.org_path("events"), params, all_pages)
    columns = ["seq", "at", "type", "object_kind", *EVENT_COLUMNS[3:]]
    emit_page(items, next_token, output, columns, "events", event_row)


def _show_decision(answer: dict[str, Any]) -> None:
    """``DECISION: deny`` (and where and when, for a logged one), then one row per policy."""
    head = [("decision", answer.get("decision")), ("id", answer.get("id"))]
    head += [(k, answer.get(k)) for k in ("at", "point", "scope", "source") if answer.get(k)]
    width = max(len(k) for k, _ in head) + 2
    for key, value in head:
        typer.echo(f"{(key.upper() + ':').ljust(width)}{value}")
    results = [_result_row(r) for r in answer.get("results") or []]
    if results:
        typer.echo("")
        emit(results, Format.table, RESULT_COLUMNS)
    for obligation in answer.get("obligations") or []:
        typer.echo(f"obligation: {json.dumps(obligation, ensure_ascii=False, sort_keys=True)}")


def _result_row(result: dict[str, Any]) -> dict[str, Any]:
    reasons = "; ".join(str(r) for r in result.get("reasons") or [])
    return {**result, "reasons": reasons if len(reasons) <= 100 else reasons[:97] + "..."}
