"""``policyhub serve`` and ``policyhub migrate``."""

from __future__ import annotations

import errno
import os
import socket
from typing import Annotated

import typer

from policyhub.cli.database import describe, load_settings
from policyhub.cli.output import fail
from policyhub.errors import DomainError
from policyhub.settings import get_settings

app = typer.Typer(add_completion=False)


@app.command()
def migrate() -> None:
    """Bring the database named by POLICYHUB_DATABASE_URL to the latest schema (creating it if needed)."""
    settings = load_settings()
    _upgrade(settings.database_url)
    typer.echo("database is up to date")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address (POLICYHUB_HOST, default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="port (POLICYHUB_PORT, default 8181)")] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, max=64, help="worker processes (POLICYHUB_WORKERS, default 1)")
    ] = None,
    grpc_port: Annotated[
        int | None,
        typer.Option(
            min=1, max=65535, help="also serve Envoy's gRPC ext_authz and rate limit services (POLICYHUB_GRPC_PORT)"
        ),
    ] = None,
) -> None:
    """Migrate, bootstrap the first org and admin key (printed once), then serve the API.

    --host, --port and --workers are settings like POLICYHUB_HOST, _PORT and _WORKERS (so the default
    public base URL follows them). A port already taken is refused before anything is done or printed.
    """
    import uvicorn

    from policyhub.domain.audit_keys import AuditKeyError
    from policyhub.logging import configure
    from policyhub.services import audit
    from policyhub.services.audit_keys import MISSING_FOR_SERVER, keyring_from_settings
    from policyhub.services.bundle_keys import bundle_key_problem
    from policyhub.services.orgs import bootstrap
    from policyhub.storage.db import Database, sqlite_path

    for name, value in (
        ("POLICYHUB_HOST", host),
        ("POLICYHUB_PORT", port),
        ("POLICYHUB_WORKERS", workers),
        ("POLICYHUB_GRPC_PORT", grpc_port),
    ):
        if value is not None:  # the workers build their app from the environment's settings
            os.environ[name] = str(value)
    get_settings.cache_clear()
    settings = load_settings()
    try:  # what the settings lack comes first; nothing is created before the port is known to be free
        keyring = keyring_from_settings(settings, required=False, create=False)
        if keyring is None and sqlite_path(settings.database_url) is None:
            raise AuditKeyError(MISSING_FOR_SERVER)
    except AuditKeyError as exc:
        fail(str(exc), 2)
    bundle_problem = bundle_key_problem(settings)  # every replica must sign bundles with the same key
    if bundle_problem:
        fail(bundle_problem, 2)
    problem = listeners_problem(settings.host, settings.port, settings.grpc_port)
    if problem:
        fail(problem, 2)
    if keyring is None:  # a SQLite file's key file, generated next to it on first start
        try:
            keyring = keyring_from_settings(settings, required=True)
        except AuditKeyError as exc:
            fail(str(exc), 2)
    _upgrade(settings.database_url)  # before logging is configured: Alembic's INFO lines are noise here
    typer.echo(f"Database {describe(settings.database_url)} is up to date.")
    configure(settings.log_level, settings.log_json)
    db = Database(settings.database_url, pool_size=1, audit_keyring=keyring)
    try:
        with db.read() as uow:
            key_problem = audit.key_problem(uow)
        if key_problem:
            fail(key_problem, 2)
        created = bootstrap(db, settings.bootstrap_org, settings.bootstrap_token)
    except DomainError as exc:
        fail(exc.detail, 2)
    finally:
        db.dispose()
    if created is not None:
        typer.echo(f"Created org {created.org.slug!r}.")
        if created.admin_token:
            typer.echo(f"Admin API key (shown once, keep it safe): {created.admin_token}")
    os.environ.setdefault("POLICYHUB_DATABASE_URL", settings.database_url)
    typer.echo(f"PolicyHub listening on http://{settings.host}:{settings.port} (docs at /docs)")
    if settings.grpc_port is not None:
        typer.echo(f"Envoy gRPC services (ext_authz Check, rate limit) on {settings.host}:{settings.grpc_port}")
    uvicorn.run(
        "policyhub.http.asgi:create",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=5,
    )


def port_problem(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be listened on (taken, not an address of this machine), or None.

    Bound as uvicorn binds it (``SO_REUSEADDR``, so a port left in TIME_WAIT is free) and released at once.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            other = port + 1 if port < 65535 else port - 1
            choose = f"choose another with POLICYHUB_PORT={other} make run, or policyhub serve --port {other}"
            if exc.errno == errno.EADDRINUSE:
                return f"port {port} on {host} is already in use (is PolicyHub already running?): {choose}"
            reason = exc.strerror or str(exc)
            return f"cannot listen on {host}:{port} ({reason}): set POLICYHUB_HOST/--host, or {choose}"
    return None


def grpc_listener_problem(host: str, port: int) -> str | None:
    """Why the gRPC listener cannot start: the ``grpc`` extra missing, or its port taken."""
    try:
        import envoy.service.auth.v3.external_auth_pb2_grpc  # noqa: F401
        import grpc  # noqa: F401
    except ImportError:
        return "--grpc-port needs the grpc extra: pip install 'policyhub[grpc]' (grpcio, xds-protos)"
    problem = port_problem(host, port)
    return (
        problem and f"gRPC {problem.replace('POLICYHUB_PORT', 'POLICYHUB_GRPC_PORT').replace('--port', '--grpc-port')}"
    )


def listeners_problem(host: str, port: int, grpc_port: int | None) -> str | None:
    """Why the HTTP listener, or else the gRPC one (when ``grpc_port`` is set), cannot start; or None."""
    problem = port_problem(host, port)
    if problem is None and grpc_port is not None:
        problem = grpc_listener_problem(host, grpc_port)
    return problem


def _upgrade(url: str) -> None:
    """Migrate ``url``; a database that cannot be reached or written is one line, not a traceback."""
    from sqlalchemy.exc import SQLAlchemyError

    from policyhub.storage.migrate import upgrade

    try:
        upgrade(url)
    except (SQLAlchemyError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        fail(f"cannot migrate the database {describe(url)}: {reason[0] if reason else type(exc).__name__}", 2)
