"""What every client command shares: where the server is, which org, which key, the output format, and the
one place a :class:`~policyhub.cli.client_http.CliError` becomes ``error: ...`` and an exit code."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

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


def if_match_value(value: str | None) -> str | None:
    """An entity tag for If-Match; bare values (quotes eaten by the shell) are quoted again."""
    if value is None:
        return None
    value = value.strip()
    return value if value == "*" or '"' in value else f'"{value}"'
