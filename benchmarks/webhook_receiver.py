"""A fast local webhook receiver for the benchmark: an asyncio HTTP/1.1 server in its own process.

It parses only what it needs (the request line, `content-length`, `webhook-id`), answers 204
on a kept-alive connection, accepts pipelined requests, and notes each message id's receipt time.
`capacity()` measures how many requests a second it can take (pipelined raw requests from one
socket), so the benchmark can show that the receiver is not what limits the dispatcher.
"""

from __future__ import annotations

import asyncio
import itertools
import multiprocessing
import socket
import time
from typing import Any

_PLAIN = itertools.count()  # unsigned requests carry no id: each is counted apart
ANSWER = b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n"


class _Protocol(asyncio.Protocol):
    def __init__(self, receipts: dict[str, float]) -> None:
        self.receipts = receipts
        self.buffer = b""

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        answers = 0
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            head = self.buffer[:end].decode("latin-1").lower()
            length, message = 0, ""
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name == "content-length":
                    length = int(value)
                elif name == "webhook-id":
                    message = value.strip()
            if len(self.buffer) < end + 4 + length:
                break
            self.buffer = self.buffer[end + 4 + length :]
            if not message:
                message = f"plain-{next(_PLAIN)}"
            self.receipts[message] = time.time()
            answers += 1
        if answers:
            self.transport.write(ANSWER * answers)


def _serve(ports: Any, commands: Any, dumps: Any) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
        pass
    receipts: dict[str, float] = {}

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: _Protocol(receipts), "127.0.0.1", 0, backlog=512)
        ports.put(server.sockets[0].getsockname()[1])
        while True:
            command = await loop.run_in_executor(None, commands.get)
            if command != "dump":
                break
            dumps.put(dict(receipts))
            receipts.clear()
        server.close()

    asyncio.run(main())


class Receiver:
    """`with Receiver() as r:` starts the server process; r.url, r.dump(), r.capacity(n)."""

    def __enter__(self) -> Receiver:
        ctx = multiprocessing.get_context("spawn")
        self.ports, self.commands, self.dumps = ctx.Queue(), ctx.Queue(), ctx.Queue()
        self.process = ctx.Process(target=_serve, args=(self.ports, self.commands, self.dumps), daemon=True)
        self.process.start()
        self.port = int(self.ports.get(timeout=60))
        self.url = f"http://127.0.0.1:{self.port}/hook"
        return self

    def dump(self) -> dict[str, float]:
        """Every receipt since the last dump: message id → time received."""
        self.commands.put("dump")
        got: dict[str, float] = self.dumps.get(timeout=120)
        return got

    def capacity(self, n: int, body: bytes) -> float:
        """Requests per second the receiver takes: n pipelined POSTs of `body` from one socket."""
        request = (
            f"POST /hook HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\n\r\n"
        ).encode() + body
        started = time.perf_counter()
        with socket.create_connection(("127.0.0.1", self.port)) as sock:
            sock.sendall(request * n)
            expected, got = len(ANSWER) * n, 0
            while got < expected:
                chunk = sock.recv(1 << 20)
                if not chunk:
                    raise RuntimeError("receiver closed the connection")
                got += len(chunk)
        took = time.perf_counter() - started
        self.dump()
        return n / took

    def __exit__(self, *_: Any) -> None:
        self.commands.put("stop")
        self.process.join(timeout=10)
