"""Reading request bodies for the client commands: JSON or YAML files, stdin, inline JSON."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from policyhub.cli.client_http import USAGE_ERROR, CliError


def read_text(path: str) -> str:
    """The contents of ``path`` (``-`` is stdin)."""
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read {path}: {exc}", USAGE_ERROR) from None


def parse_document(text: str, origin: str) -> Any:
    """JSON, or else YAML (``yaml.safe_load``); dates become ISO strings, as JSON has none."""
    try:
        return json.loads(text)
    except ValueError as exc:
        if origin.endswith(".json"):
            raise CliError(f"{origin} is not valid JSON: {exc}", USAGE_ERROR) from None
    try:
        return _plain(yaml.safe_load(text))
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CliError(f"{origin} is neither JSON nor YAML: {first}", USAGE_ERROR) from None


def load_mapping(path: str) -> dict[str, Any]:
    """A JSON/YAML file (or stdin) that must hold an object."""
    origin = "stdin" if path == "-" else path
    value = parse_document(read_text(path), origin)
    if not isinstance(value, dict):
        raise CliError(f"{origin} must hold a JSON/YAML object (mapping)", USAGE_ERROR)
    return value


def json_or_file(value: str, option: str) -> Any:
    """Inline JSON, or ``@FILE`` (JSON or YAML; ``@-`` is stdin)."""
    if value.startswith("@"):
        path = value[1:]
        return parse_document(read_text(path), "stdin" if path == "-" else path)
    try:
        return json.loads(value)
    except ValueError as exc:
        raise CliError(f"{option} is not valid JSON ({exc}); use @FILE to read a file", USAGE_ERROR) from None


def _plain(value: Any) -> Any:
    """YAML values JSON cannot carry: dates and times as ISO 8601 strings, others refused."""
    if isinstance(value, dict):
        return {_key(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise CliError(f"YAML value of type {type(value).__name__} has no JSON equivalent", USAGE_ERROR)


def _key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, dt.date | dt.datetime):
        return key.isoformat()
    if key is None or isinstance(key, int | float | bool):
        return json.dumps(key)
    raise CliError(f"YAML mapping key {key!r} has no JSON equivalent", USAGE_ERROR)
