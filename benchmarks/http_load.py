"""An open-loop HTTP load generator light enough not to be the bottleneck it is measuring.

Requests leave at their scheduled times whether or not earlier ones have answered (no
coordinated omission), over raw keep-alive HTTP/1.1 connections: an httpx AsyncClient cost
more CPU per request (~6 ms here) than the server it was measuring.
"""

from __future__ import annotations

import asyncio
import statistics


class Connection:
    """One keep-alive HTTP/1.1 connection speaking just enough HTTP for a GET."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def get(self, request: bytes) -> tuple[int, bytes]:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)


async def drive(
    port: int,
    path: str,
    token: str,
    seconds: float,
    rate: float,
    expect: bytes,
    label: str,
    connections: int = 32,
) -> tuple[list[float], int]:
    """Open loop: request i leaves at t0 + i/rate on an idle connection (a new one when all
    are busy); latency counts from that scheduled moment, in ms."""
    request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n\r\n").encode()
    idle: list[Connection] = []
    latencies: list[float] = []
    errors = 0
    failures: dict[str, int] = {}
    loop = asyncio.get_running_loop()
    for _ in range(connections):  # opened before the clock starts, as a warm client would be
        idle.append(Connection(*await asyncio.open_connection("127.0.0.1", port)))
    t0 = loop.time() + 0.05

    async def send(request: bytes) -> tuple[int, bytes, Connection]:
        """On a reused connection the server may have closed meanwhile (keep-alive timeout):
        then once more on a fresh one, as HTTP clients do for idempotent requests."""
        while idle:
            conn = idle.pop()
            try:
                status, body = await asyncio.wait_for(conn.get(request), timeout=10)
                return status, body, conn
            except (asyncio.IncompleteReadError, ConnectionError):
                conn.writer.close()
        conn = Connection(*await asyncio.open_connection("127.0.0.1", port))
        status, body = await asyncio.wait_for(conn.get(request), timeout=10)
        return status, body, conn

    async def one(due: float) -> None:
        nonlocal errors
        await asyncio.sleep(max(0.0, due - loop.time()))
        try:
            status, body, conn = await send(request)
            ok = status == 200 and expect in body
            idle.append(conn)
            why = f"HTTP {status}: {body[:200]!r}"
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
            ok, why = False, type(exc).__name__
        if not ok:
            failures[why] = failures.get(why, 0) + 1
        latencies.append((loop.time() - due) * 1000)
        errors += not ok

    await asyncio.gather(*(one(t0 + i / rate) for i in range(int(seconds * rate))))
    for conn in idle:
        conn.writer.close()
    for why, count in sorted(failures.items()):
        print(f"[{label}]   {count} failed: {why}", flush=True)
    return latencies, errors


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000, method="inclusive")[int(q * 10) - 1]
