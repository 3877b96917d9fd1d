"""``policyhub serve`` and ``policyhub migrate``."""

from __future__ import annotations

from typing import Annotated

import typer

from policyhub.errors import DomainError
from policyhub.settings import get_settings

app = typer.Typer(add_completion=False)


@app.command()
def migrate() -> None:
    """Bring the database named by POLICYHUB_DATABASE_URL to the latest schema."""
    from policyhub.storage.migrate import upgrade

    upgrade(get_settings().database_url)
    typer.echo("database is up to date")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address (POLICYHUB_HOST, default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="port (POLICYHUB_PORT, default 8181)")] = None,
    workers: Annotated[int | None, typer.Option(help="worker processes (POLICYHUB_WORKERS, default 1)")] = None,
) -> None:
    """Migrate, bootstrap the first org and admin key (printed once), then serve the API."""
    import os

    import uvicorn

    from policyhub.domain.audit_keys import AuditKeyError
    from policyhub.logging import configure
    from policyhub.services import audit
    from policyhub.services.audit_keys import keyring_from_settings
    from policyhub.services.orgs import bootstrap
    from policyhub.storage.db import Database
    from policyhub.storage.migrate import upgrade

    settings = get_settings()
    configure(settings.log_level, settings.log_json)
    try:
        keyring = keyring_from_settings(settings, required=True)
    except AuditKeyError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    upgrade(settings.database_url)
    db = Database(settings.database_url, pool_size=1, audit_keyring=keyring)
    try:
        with db.read() as uow:
            problem = audit.key_problem(uow)
        if problem:
            typer.echo(f"error: {problem}", err=True)
            raise typer.Exit(2)
        created = bootstrap(db, settings.bootstrap_org, settings.bootstrap_token)
    except DomainError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(2) from None
    finally:
        db.dispose()
    if created is not None:
        typer.echo(f"Created org {created.org.slug!r}.")
        if created.admin_token:
            typer.echo(f"Admin API key (shown once, keep it safe): {created.admin_token}")
    host = host or settings.host
    port = port or settings.port
    workers = workers or settings.workers
    os.environ.setdefault("POLICYHUB_DATABASE_URL", settings.database_url)
    typer.echo(f"PolicyHub listening on http://{host}:{port} (docs at /docs)")
    uvicorn.run(
        "policyhub.http.asgi:create",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=5,
    )
