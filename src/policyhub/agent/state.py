"""The agent's state directory: what it must still have after a restart with the hub down.

Files (all JSON, each replaced atomically: written to a temporary file in the same directory, fsynced,
renamed over the old one, then the directory fsynced, so a crash leaves the old file or the new one,
never a torn one):

- ``bundle.json``: the last bundle the agent verified and applied, exactly as the hub signed it
  (``{"bundle": ..., "signature": ..., "key_id": ...}``) plus the ``etag`` it came with. It is verified
  again at start-up before anything is served from it: a file edited on disk is refused like a bundle
  tampered with on the wire.
- ``keys.json``: the hub's public keys the agent pinned on its first start (trust on first use) when no
  ``--public-key`` was given; later starts use these and never ask the hub again.
- ``spool/``: the decision log spool (:mod:`policyhub.agent.spool`).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

import orjson

BUNDLE_FILE = "bundle.json"
KEYS_FILE = "keys.json"


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that a crash at any point leaves either the old or the new file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    fsync_dir(path.parent)


def fsync_dir(directory: Path) -> None:
    """Make a rename or unlink in ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class StateDir:
    """The agent's directory (created 0700: it holds the org's policies)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        for stale in path.glob(".*.tmp"):  # a write interrupted by a crash
            with contextlib.suppress(OSError):
                stale.unlink()

    def read_json(self, name: str) -> Any | None:
        """The file's JSON, or None when it does not exist. A file that is not JSON raises ValueError."""
        try:
            raw = (self.path / name).read_bytes()
        except FileNotFoundError:
            return None
        return orjson.loads(raw)

    def write_json(self, name: str, value: Any) -> None:
        write_atomic(self.path / name, orjson.dumps(value))

    @property
    def spool_dir(self) -> Path:
        return self.path / "spool"
