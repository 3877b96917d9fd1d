"""``policyhub agent``: PolicyHub's decision engine next to an enforcement point (a sidecar)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from policyhub.cli.commands.server import listeners_problem
from policyhub.cli.output import fail

app = typer.Typer(add_completion=False)


@app.command()
def agent(
    hub: Annotated[str, typer.Option(help="the hub's base URL, e.g. http://hub.internal:8181")],
    org: Annotated[str, typer.Option(help="the org (slug or id) whose decisions this agent makes")],
    environment: Annotated[str, typer.Option(help="the rollout environment whose bundle it follows")],
    host: Annotated[str, typer.Option(help="listen address (a loopback address unless a local token is set)")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(min=1, max=65535, help="listen port")] = 8282,
    state_dir: Annotated[
        Path | None, typer.Option(help="where the verified bundle, the pinned key and the decision spool live")
    ] = None,
    public_key: Annotated[
        str | None, typer.Option(help="the hub's bundle-signing public key (base64) to pin; else pinned on first start")
    ] = None,
    redis_url: Annotated[
        str | None, typer.Option(help="share rate-limit counters in this Redis (default: count in this agent)")
    ] = None,
    name: Annotated[str | None, typer.Option(help="the agent's name in the hub's status (default: host-port)")] = None,
    grpc_port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="also serve Envoy's gRPC ext_authz Check and rate limit service here"),
    ] = None,
) -> None:
    """Follow an environment's signed bundle and answer decisions locally, even while the hub is down.

    The hub key (role agent) is read from POLICYHUB_TOKEN. POLICYHUB_AGENT_LOCAL_TOKEN, when set, is
    required as a Bearer token by the agent's own listener.
    """
    import uvicorn

    from policyhub.agent.config import AgentSettings
    from policyhub.logging import configure
    from policyhub.settings import get_settings

    if not os.environ.get("POLICYHUB_TOKEN"):
        fail("set POLICYHUB_TOKEN to the agent's hub key (role agent)", 2)
    values = {
        "HUB": hub,
        "ORG": org,
        "ENVIRONMENT": environment,
        "HOST": host,
        "PORT": str(port),
        "STATE_DIR": str(state_dir or Path("var") / "agent" / environment),
        "PUBLIC_KEY": public_key,
        "REDIS_URL": redis_url,
        "NAME": name,
        "GRPC_PORT": None if grpc_port is None else str(grpc_port),
    }
    for key, value in values.items():
        if value is not None:  # the listener builds its agent from the environment
            os.environ[f"POLICYHUB_AGENT_{key}"] = value
    try:
        config = AgentSettings.from_environment()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "options"
        fail(f"{where}: {first['msg']}", 2)
    problem = listeners_problem(config.host, config.port, config.grpc_port)
    if problem:
        fail(problem, 2)
    settings = get_settings()
    configure(settings.log_level, settings.log_json)
    typer.echo(
        f"PolicyHub agent {config.name!r} for {config.org}/{config.environment} on http://{config.address} "
        f"(hub {config.hub}, state in {config.state_dir})"
        + (f"; Envoy gRPC services on {config.host}:{config.grpc_port}" if config.grpc_port is not None else "")
    )
    uvicorn.run(
        "policyhub.http.agent.asgi:create",
        factory=True,
        host=config.host,
        port=config.port,
        workers=1,
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=5,
    )
