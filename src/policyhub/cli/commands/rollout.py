"""``policyhub rollout ...``: rollout environments and what their agents enforce, on a running server
(``/v1/orgs/{org}/environments``). Options, output and exit codes as ``policyhub policies``.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from policyhub.cli.client_http import ApiClient, CliError
from policyhub.cli.client_options import client_command
from policyhub.cli.output import Format, emit, show

rollout_app = typer.Typer(
    help="Rollout environments (the scopes each receives) and what each agent has applied.",
    add_completion=False,
    no_args_is_help=True,
)

Env = Annotated[str, typer.Argument(help="the environment's name (e.g. production)", show_default=False)]
AGENT_COLUMNS = ["name", "revision", "in_sync", "lag_s", "live", "last_seen", "address", "last_error"]
ENV_COLUMNS = ["name", "scopes", "updated_at"]
#: ``status --check``: some agent is behind, not live, or there is none.
NOT_IN_SYNC = 3


def _env_row(env: dict[str, Any]) -> dict[str, Any]:
    return {**env, "scopes": ", ".join(env.get("scopes") or []) or "(org-level policies only)"}


@client_command(rollout_app, "status")
def status(
    api: ApiClient,
    output: Format,
    environment: Env,
    check: Annotated[
        bool, typer.Option("--check", help=f"exit {NOT_IN_SYNC} unless every agent is live and in sync (CI gates)")
    ] = False,
) -> None:
    """What each agent of ENVIRONMENT has applied: revision, in sync or how far behind, last seen, last error."""
    found = api.call("GET", api.org_path("environments", environment, "status")).mapping
    show(found, output, _print_status)
    summary = found.get("summary") or {}
    agents = summary.get("agents", 0)
    if check and not (agents and summary.get("in_sync") == agents and summary.get("live") == agents):
        raise CliError(f"environment {environment!r} is not in sync", NOT_IN_SYNC)


def _print_status(found: dict[str, Any]) -> None:
    desired = found.get("desired") or {}
    summary = found.get("summary") or {}
    scopes = ", ".join(found.get("scopes") or []) or "org-level policies only"
    typer.echo(
        f"environment {found.get('environment')} ({scopes}): desired revision {desired.get('revision')}"
        f" (committed {desired.get('committed_at') or '-'})"
    )
    typer.echo(
        f"{summary.get('agents', 0)} agent(s), {summary.get('live', 0)} live, {summary.get('in_sync', 0)} in sync"
    )
    if found.get("agents"):
        emit(found["agents"], Format.table, AGENT_COLUMNS)


@client_command(rollout_app, "list")
def list_environments(api: ApiClient, output: Format) -> None:
    """List the org's rollout environments and their scopes."""
    found = api.call("GET", api.org_path("environments")).mapping.get("environments", [])
    emit(found if output == Format.json else [_env_row(e) for e in found], output, ENV_COLUMNS)


@client_command(rollout_app, "put")
def put_environment(
    api: ApiClient,
    output: Format,
    environment: Env,
    scope: Annotated[
        list[str] | None,
        typer.Option("--scope", help="a scope whose policies the environment receives (repeat; none: org level only)"),
    ] = None,
) -> None:
    """Create or replace an environment: its agents receive the org-level policies and those of each --scope."""
    found = api.call("PUT", api.org_path("environments", environment), body={"scopes": scope or []}).mapping
    show(found, output, lambda env: typer.echo(f"environment {env.get('name')}: {_env_row(env)['scopes']}"))


@client_command(rollout_app, "delete")
def delete_environment(api: ApiClient, environment: Env) -> None:
    """Delete an environment (its agents keep their last bundle and no longer receive changes)."""
    api.call("DELETE", api.org_path("environments", environment))
    typer.echo(f"deleted environment {environment!r}")
