"""Byte-exact HTTP/1.1 requests (no client-side normalisation of paths, headers or bodies).

The hostile corpus needs what a well-behaved client refuses to send: dot segments and encoded
characters left in the path, odd Authorization bytes, chunked bodies of any size, any method.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


def send(
    port: int,
    method: str,
    target: str,
    headers: Iterable[tuple[str, str | bytes]] = (),
    body: bytes | None = None,
    *,
    chunked: bool = False,
    timeout_s: float = 60.0,
) -> RawResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout_s)
    try:
        conn.putrequest(method, target, skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        if body is not None and chunked:
            conn.putheader("Transfer-Encoding", "chunked")
        elif body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        try:
            if body is not None and chunked:
                step = 64 * 1024
                for start in range(0, len(body), step):
                    chunk = body[start : start + step]
                    conn.send(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                conn.send(b"0\r\n\r\n")
            elif body is not None:
                conn.send(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered early (e.g. 413) and closed: read what it said
        response = conn.getresponse()
        return RawResponse(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        conn.close()


def message_of(body: Any) -> str | None:
    """The human-readable message of any face's error body, or None if there is none."""
    if isinstance(body, dict):
        for key in ("detail", "message", "error_description", "msg", "error", "title"):
            value = body.get(key)
            if isinstance(value, str) and value.strip():
                return value
            found = message_of(value)
            if found:
                return found
        return message_of(body.get("errors"))
    if isinstance(body, list):
        for item in body:
            found = message_of(item)
            if found:
                return found
    return None


def multipart(parts: dict[str, tuple[str | None, bytes]], boundary: str = "reliabilityboundary") -> tuple[str, bytes]:
    """A multipart/form-data body: name -> (filename or None, content). Returns (content type, body)."""
    out = b""
    for name, (filename, content) in parts.items():
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n".encode()
        if filename:
            out += b"Content-Type: application/octet-stream\r\n"
        out += b"\r\n" + content + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", out
