"""What every client command shares: where the server is, which org, which key, the output format, and the
one place a :class:`~policyhub.cli.client_http.CliError` becomes ``error: ...`` and an exit code.

A command states only its own arguments and options and is registered with :func:`client_command`, which
adds the shared ones after them and hands the command an open :class:`~policyhub.cli.client_http.ApiClient`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer

from policyhub.cli.client_http import ApiClient, CliError
from policyhub.cli.output import Format, fail

DEFAULT_URL = "http://127.0.0.1:8181"
DEFAULT_ORG = "default"

Url = Annotated[str, typer.Option("--url", envvar="POLICYHUB_URL", help="server base URL")]
Org = Annotated[str, typer.Option("--org", envvar="POLICYHUB_ORG", help="org slug or id")]
Token = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar="POLICYHUB_TOKEN",
        show_default=False,
        help="API key (prefer the POLICYHUB_TOKEN variable: options show up in process lists)",
    ),
]
Output = Annotated[Format, typer.Option("-o", "--output", help="table or json")]
Limit = Annotated[int | None, typer.Option(min=1, help="page size")]
AllPages = Annotated[bool, typer.Option("--all", help="follow next_page_token to the end")]
PageToken = Annotated[str | None, typer.Option(help="continue a previous listing")]


@contextmanager
def connect(url: str, org: str, token: str | None) -> Iterator[ApiClient]:
    """A client for the command's duration; any :class:`CliError` becomes ``error: ...`` and an exit code."""
    client: ApiClient | None = None
    try:
        client = ApiClient(url, org, token)
        yield client
    except CliError as exc:
        fail(exc.message, exc.code)
    finally:
        if client is not None:
            client.close()


def _option(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)


#: Appended, in this order, to every client command's own parameters (``output`` only where it shows data).
_CONNECTION = [_option("url", Url, DEFAULT_URL), _option("org", Org, DEFAULT_ORG), _option("token", Token, None)]
_OUTPUT = _option("output", Output, Format.table)


def client_command(app: typer.Typer, name: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Register ``fn(api, [output,] own...)`` as ``app``'s command ``name``.

    The command line gets ``fn``'s own parameters, then ``--url``, ``--org``, ``--token`` and, when ``fn``
    takes ``output``, ``-o/--output``. ``fn`` runs with an open :class:`ApiClient` as ``api``; a
    :class:`CliError` it raises (from the server, a connection or the command's own usage checks) becomes
    ``error: ...`` on stderr and the error's exit code.
    """

    def register(fn: Callable[..., None]) -> Callable[..., None]:
        signature = inspect.signature(fn, eval_str=True)
        shows = "output" in signature.parameters
        own = [p for p in signature.parameters.values() if p.name not in ("api", "output")]
        parameters = [*own, *_CONNECTION, *([_OUTPUT] if shows else [])]

        @functools.wraps(fn)
        def command(*, url: str, org: str, token: str | None, **options: Any) -> None:
            with connect(url, org, token) as api:
                fn(api, **options)

        command.__signature__ = signature.replace(parameters=parameters, return_annotation=None)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in parameters}
        app.command(name)(command)
        return fn

    return register


def if_match_value(value: str | None) -> str | None:
    """An entity tag for If-Match; bare values (quotes eaten by the shell) are quoted again."""
    if value is None:
        return None
    value = value.strip()
    return value if value == "*" or '"' in value else f'"{value}"'
