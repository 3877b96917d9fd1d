"""The cheapest HTTP server we can write, to measure a load generator's own capacity.

``python -m bench.stub PORT SECONDS`` answers every request head (bodies are not expected) with a
canned keep-alive 200, and exits by itself after SECONDS.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from bench.loadgen import new_loop

RESPONSE = (b"HTTP/1.1 200 OK\r\ncontent-length: 15\r\ncontent-type: application/json\r\n\r\n"
            b'{"status":"ok"}')


class _Stub(asyncio.Protocol):
    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.buf = b""

    def data_received(self, data: bytes) -> None:
        buf = self.buf + data
        count = buf.count(b"\r\n\r\n")
        if count:
            self.transport.write(RESPONSE * count)
            buf = buf[buf.rfind(b"\r\n\r\n") + 4:]
        self.buf = buf


async def _serve(port: int, seconds: float) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Stub, "127.0.0.1", port, backlog=1024)
    print("ready", flush=True)
    await asyncio.sleep(seconds)
    server.close()


def main() -> None:
    port, seconds = int(sys.argv[1]), min(float(sys.argv[2]), 600.0)
    loop, _ = new_loop()
    try:
        loop.run_until_complete(_serve(port, seconds))
    finally:
        loop.close()


if __name__ == "__main__":
    main()
