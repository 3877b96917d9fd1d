"""``policyhub``: serve, migrate, administer, and talk to a running server."""

from __future__ import annotations

import typer

from policyhub.cli.commands import admin, agent, client, decisions, org_config, rollout, scopes, server

app = typer.Typer(help="PolicyHub: versioned, audited policies.", add_completion=False, no_args_is_help=True)
app.registered_commands += server.app.registered_commands
app.registered_commands += agent.app.registered_commands
app.add_typer(admin.orgs_app, name="orgs")
app.add_typer(admin.keys_app, name="keys")
app.add_typer(admin.audit_app, name="audit")

app.add_typer(client.policies_app, name="policies")
app.add_typer(scopes.scopes_app, name="scopes")
app.add_typer(decisions.decisions_app, name="decisions")
app.add_typer(decisions.events_app, name="events")
app.add_typer(org_config.schemas_app, name="schemas")
app.add_typer(org_config.settings_app, name="settings")
app.add_typer(rollout.rollout_app, name="rollout")

if __name__ == "__main__":
    app()
