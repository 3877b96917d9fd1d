"""Printing results for people (tables) or scripts (``-o json``), and failing clearly."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Any, NoReturn

import typer


class Format(StrEnum):
    table = "table"
    json = "json"


def emit(value: Any, fmt: Format, columns: Sequence[str] | None = None) -> None:
    """Print ``value`` as JSON, or as a table of ``columns`` (rows are dicts)."""
    if fmt == Format.json or columns is None:
        typer.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))
        return
    rows = value if isinstance(value, list) else [value]
    table = [[_cell(row.get(col)) for col in columns] for row in rows]
    widths = [max([len(col), *(len(r[i]) for r in table)]) for i, col in enumerate(columns)]
    typer.echo("  ".join(col.upper().ljust(w) for col, w in zip(columns, widths, strict=True)).rstrip())
    for r in table:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())


def show(value: Any, fmt: Format, human: Callable[[Any], None]) -> None:
    """``value`` as JSON with ``-o json``; otherwise ``human(value)`` prints the view for people."""
    if fmt == Format.json:
        emit(value, fmt)
    else:
        human(value)


def emit_page(
    items: list[Any],
    next_token: str | None,
    fmt: Format,
    columns: Sequence[str],
    what: str,
    row: Callable[[Any], dict[str, Any]] | None = None,
) -> None:
    """One listing: ``{"items", "next_page_token"}`` with ``-o json``; else a table of ``columns`` (each item
    made a row by ``row``) and, when more is left, how to get it (on stderr)."""
    if fmt == Format.json:
        emit({"items": items, "next_page_token": next_token}, fmt)
        return
    emit([row(item) for item in items] if row else items, fmt, columns)
    if next_token:
        typer.echo(f"(more {what}: use --all, or --page-token {next_token})", err=True)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)[:60]
    return str(value)


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    sys.exit(code)
