"""``policyhub schemas ...`` and ``policyhub settings ...``: the org's document schemas and settings on a
running server (``/v1/orgs/{org}/document-schemas``, ``/v1/orgs/{org}/settings``).

A document schema is a JSON Schema that ``document`` policies name in ``spec["$schema"]``; the file holds
the schema itself (not ``{"schema": ...}``). Options, output and exit codes as ``policyhub policies``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
import yaml

from policyhub.cli.client_http import USAGE_ERROR, ApiClient, CliError
from policyhub.cli.client_input import load_mapping
from policyhub.cli.client_options import client_command
from policyhub.cli.output import Format, emit, show

schemas_app = typer.Typer(
    help="JSON Schemas that document policies name in spec.$schema (on a running server).",
    add_completion=False,
    no_args_is_help=True,
)
settings_app = typer.Typer(help="The org's settings (on a running server).", add_completion=False, no_args_is_help=True)

Name = Annotated[str, typer.Argument(help="the schema's name (what spec.$schema names)", show_default=False)]


def _schema_row(item: dict[str, Any]) -> dict[str, Any]:
    found = item.get("schema")
    schema: dict[str, Any] = found if isinstance(found, dict) else {}
    return {
        "name": item.get("name"),
        "title": schema.get("title"),
        "type": schema.get("type"),
        "bytes": len(json.dumps(schema, separators=(",", ":"))),
    }


@client_command(schemas_app, "list")
def list_schemas(api: ApiClient, output: Format) -> None:
    """List the org's document schemas."""
    found = api.call("GET", api.org_path("document-schemas")).array
    emit(
        found if output == Format.json else [_schema_row(s) for s in found], output, ["name", "title", "type", "bytes"]
    )


@client_command(schemas_app, "get")
def get_schema(api: ApiClient, output: Format, name: Name) -> None:
    """Show one document schema (as YAML; -o json: {"name", "schema"})."""
    show(api.call("GET", api.org_path("document-schemas", name)).mapping, output, _show_schema)


def _show_schema(found: dict[str, Any]) -> None:
    typer.echo(yaml.safe_dump(found.get("schema"), sort_keys=False, allow_unicode=True).rstrip("\n"))


@client_command(schemas_app, "put")
def put_schema(
    api: ApiClient,
    output: Format,
    name: Name,
    file: Annotated[str, typer.Option("-f", "--file", help="the JSON Schema, JSON or YAML ('-' for stdin)")],
) -> None:
    """Create or replace a document schema (admin). The file holds the schema itself."""
    schema = load_mapping(file)
    reply = api.call("PUT", api.org_path("document-schemas", name), body=schema)
    done = "created" if reply.status == 201 else "replaced"
    if output == Format.json:
        typer.echo(f"{done} document schema {name!r}", err=True)
        emit(reply.mapping, output)
        return
    typer.echo(f"{done} document schema {name!r}")


@client_command(schemas_app, "delete")
def delete_schema(api: ApiClient, name: Name) -> None:
    """Delete a document schema that no policy uses (admin)."""
    api.call("DELETE", api.org_path("document-schemas", name))
    typer.echo(f"deleted document schema {name!r}")


def _settings_rows(org: dict[str, Any]) -> list[dict[str, Any]]:
    settings = org.get("settings") or {}
    return [{"setting": k, "value": json.dumps(v)} for k, v in sorted(settings.items())]


@client_command(settings_app, "get")
def get_settings(api: ApiClient, output: Format) -> None:
    """Show the org's settings (-o json: the org, with its "settings")."""
    found = api.call("GET", api.org_path()).mapping
    emit(found if output == Format.json else _settings_rows(found), output, ["setting", "value"])
    if output != Format.json and not found.get("settings"):
        typer.echo("(no setting changed: each has its default; see `policyhub settings set --help`)", err=True)


@client_command(settings_app, "set")
def set_settings(
    api: ApiClient,
    output: Format,
    assignments: Annotated[
        list[str], typer.Argument(help="NAME=VALUE, the value as JSON (e.g. require_if_match=true)", show_default=False)
    ],
) -> None:
    """Change org settings (admin); the others keep their values.

    require_if_match=true makes every policy write carry If-Match (428 without it).
    """
    changes = dict(_assignment(a) for a in assignments)
    found = api.call("PATCH", api.org_path("settings"), body=changes).mapping
    if output == Format.json:
        emit(found, output)
        return
    typer.echo("updated settings: " + ", ".join(f"{k}={json.dumps(v)}" for k, v in changes.items()))
    emit(_settings_rows(found), output, ["setting", "value"])


def _assignment(text: str) -> tuple[str, Any]:
    name, sep, raw = text.partition("=")
    if not sep or not name.strip():
        raise CliError(f"expected NAME=VALUE, not {text!r}", USAGE_ERROR)
    try:
        return name.strip(), json.loads(raw)
    except ValueError:
        raise CliError(
            f'the value of {name.strip()} is not JSON: {raw!r} (e.g. true, 3, "text")', USAGE_ERROR
        ) from None
