"""``policyhub scopes ...``: the org's scope tree on a running server (``/v1/orgs/{org}/scopes``).

A scope is addressed by its path (``payments/api``) or id; ``create KEY --parent PATH`` nests it. Options,
output and exit codes as ``policyhub policies``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from policyhub.cli.client_http import USAGE_ERROR, ApiClient, CliError
from policyhub.cli.client_input import json_or_file
from policyhub.cli.client_options import client_command
from policyhub.cli.output import Format, emit, show

scopes_app = typer.Typer(
    help="The org's scope tree on a running server (a policy at a scope applies below it).",
    add_completion=False,
    no_args_is_help=True,
)

SCOPE_COLUMNS = ["path", "kind", "name", "id", "attributes"]
Ref = Annotated[str, typer.Argument(help="scope path (e.g. payments/api) or id", show_default=False)]


def _parts(ref: str) -> list[str]:
    """A scope path's segments (``payments/api`` -> two URL segments); an id is one."""
    parts = ref.strip("/").split("/")
    if not ref.strip("/"):
        raise CliError("a scope path or id is needed", USAGE_ERROR)
    return parts


def _row(scope: dict[str, Any]) -> dict[str, Any]:
    attributes = scope.get("attributes") or None
    return {**scope, "attributes": json.dumps(attributes, ensure_ascii=False) if attributes else None}


@client_command(scopes_app, "list")
def list_scopes(
    api: ApiClient,
    output: Format,
    under: Annotated[str | None, typer.Option(help="only this scope and its descendants (path or id)")] = None,
    kind: Annotated[str | None, typer.Option(help="only scopes of this kind")] = None,
) -> None:
    """List the org's scopes, each with its path."""
    found = api.call("GET", api.org_path("scopes"), params={"under": under, "kind": kind}).array
    emit(found if output == Format.json else [_row(s) for s in found], output, SCOPE_COLUMNS)


@client_command(scopes_app, "get")
def get_scope(api: ApiClient, output: Format, ref: Ref) -> None:
    """Show one scope."""
    found = api.call("GET", api.org_path("scopes", *_parts(ref))).mapping
    emit(found if output == Format.json else _row(found), output, SCOPE_COLUMNS)


@client_command(scopes_app, "create")
def create_scope(
    api: ApiClient,
    output: Format,
    key: Annotated[str, typer.Argument(help="the scope's key: its last path segment (e.g. api)", show_default=False)],
    kind: Annotated[str, typer.Option(help="workspace, project, repo, application, environment, endpoint, ...")],
    parent: Annotated[
        str | None, typer.Option(help="the parent scope's path or id (default: a top-level scope)")
    ] = None,
    name: Annotated[str | None, typer.Option(help="display name (default: the key)")] = None,
    attributes: Annotated[str | None, typer.Option(help="attributes: a JSON object, or @FILE")] = None,
) -> None:
    """Create a scope (under --parent to nest it: `scopes create api --kind repo --parent payments`)."""
    body: dict[str, Any] = {"kind": kind, "key": key, "name": name, "parent": parent}
    if attributes is not None:
        value = json_or_file(attributes, "--attributes")
        if not isinstance(value, dict):
            raise CliError("--attributes must be a JSON object", USAGE_ERROR)
        body["attributes"] = value
    created = api.call("POST", api.org_path("scopes"), body=body).mapping
    show(created, output, _say_created)


def _say_created(scope: dict[str, Any]) -> None:
    typer.echo(f"created scope {scope.get('path')!r} ({scope.get('kind')}, id {scope.get('id')})")


@client_command(scopes_app, "delete")
def delete_scope(api: ApiClient, ref: Ref) -> None:
    """Delete an empty scope (no child scopes, policies or keys bound at it)."""
    api.call("DELETE", api.org_path("scopes", *_parts(ref)))
    typer.echo(f"deleted scope {ref.strip('/')!r}")
