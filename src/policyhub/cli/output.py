"""Printing results for people (tables) or scripts (``-o json``), and failing clearly."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
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


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)[:60]
    return str(value)


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    sys.exit(code)
