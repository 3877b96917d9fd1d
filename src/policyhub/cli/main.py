"""``policyhub``: serve, migrate, administer, and talk to a running server."""

from __future__ import annotations

import typer

from policyhub.cli.commands import admin, server

app = typer.Typer(help="PolicyHub: versioned, audited policies.", add_completion=False, no_args_is_help=True)
app.registered_commands += server.app.registered_commands
app.add_typer(admin.orgs_app, name="orgs")
app.add_typer(admin.keys_app, name="keys")
app.add_typer(admin.audit_app, name="audit")

try:
    from policyhub.cli.commands import client
except ImportError:  # pragma: no cover - client commands are optional during development
    client = None  # type: ignore[assignment]
if client is not None:
    app.add_typer(client.policies_app, name="policies")

if __name__ == "__main__":
    app()
