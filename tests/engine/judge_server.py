"""A fake OpenAI-compatible chat-completions server on a local port (real HTTP), for the judge's tests."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Behaviour:
    """What the server answers next: a verdict (as message content), or a raw body, a status, a delay."""

    content: Any = field(default_factory=lambda: {"violated": False, "explanation": "fine"})
    raw: bytes | None = None
    status: int = 200
    delay_s: float = 0.0


class FakeChatServer:
    """The running server: its base URL, the requests it received, and what it answers next."""

    def __init__(self, server: ThreadingHTTPServer) -> None:
        self._server = server
        self.url = f"http://127.0.0.1:{server.server_port}/v1"
        self.requests: list[dict[str, Any]] = server.requests  # type: ignore[attr-defined]

    def answer(self, **kw: Any) -> None:
        self._server.behaviour = Behaviour(**kw)  # type: ignore[attr-defined]


class _Handler(BaseHTTPRequestHandler):
    server: Any

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"null")
        self.server.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
        behaviour: Behaviour = self.server.behaviour
        if behaviour.delay_s:
            time.sleep(behaviour.delay_s)
        if behaviour.raw is not None:
            payload = behaviour.raw
        else:
            content = behaviour.content if isinstance(behaviour.content, str) else json.dumps(behaviour.content)
            payload = json.dumps(
                {
                    "id": "c-1",
                    "object": "chat.completion",
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": content}}],
                }
            ).encode()
        try:
            self.send_response(behaviour.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
            pass

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def fake_chat_server() -> Iterator[FakeChatServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.behaviour = Behaviour()  # type: ignore[attr-defined]
    server.requests = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield FakeChatServer(server)
    finally:
        server.shutdown()
        server.server_close()
