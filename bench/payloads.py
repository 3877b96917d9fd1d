"""What the scenarios send: ~1 KB policy specs with a counter, split around the counter's digits.

A request body is ``prefix + str(counter) + suffix``, so both load generators (the Python client and
wrk's Lua script) can make every request's spec different without rebuilding JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

MARK = "__COUNTER__"


def spec_template() -> dict[str, object]:
    """A realistic ~1 KB spec: a few scalars, a list of rule objects and some labels."""
    rules = [
        {"id": f"rule-{i:02d}", "match": f"/api/v1/resource-{i}/*", "methods": ["GET", "POST"],
         "limit": 100 * (i + 1), "window_s": 60, "burst": i % 5}
        for i in range(8)
    ]
    return {"counter": MARK, "owner": "team-bench", "enabled": True, "rules": rules,
            "notes": "benchmark document; the counter changes on every write so each write is a new version"}


def _split(document: dict[str, object]) -> tuple[bytes, bytes]:
    text = json.dumps(document, separators=(",", ":"))
    prefix, suffix = text.split(json.dumps(MARK), 1)
    return prefix.encode(), suffix.encode()


def patch_body_parts() -> tuple[bytes, bytes]:
    """Merge-patch body ``{"spec": {...}}``."""
    return _split({"spec": spec_template()})


def put_body_parts() -> tuple[bytes, bytes]:
    """Full-replace body ``{"type": "document", "spec": {...}}``."""
    return _split({"type": "document", "spec": spec_template()})


def create_body(name: str, counter: int = 0) -> bytes:
    spec = {**spec_template(), "counter": counter}
    return json.dumps({"name": name, "type": "document", "spec": spec}, separators=(",", ":")).encode()


def body_size() -> int:
    prefix, suffix = patch_body_parts()
    return len(prefix) + len(suffix) + 6


@dataclass(frozen=True)
class RequestSpec:
    """One scenario's requests. Connection ``i`` always uses ``paths[i % len(paths)]``."""

    method: str
    paths: tuple[str, ...]
    headers: dict[str, str] = field(default_factory=dict)
    body_parts: tuple[bytes, bytes] | None = None  # (prefix, suffix) around the counter

    def head(self, index: int, host: str) -> bytes:
        """Request line and fixed headers for connection ``index`` (without Content-Length)."""
        lines = [f"{self.method} {self.paths[index % len(self.paths)]} HTTP/1.1", f"Host: {host}"]
        lines += [f"{k}: {v}" for k, v in self.headers.items()]
        return ("\r\n".join(lines) + "\r\n").encode()
