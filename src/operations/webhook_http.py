"""Signed POSTs over kept-alive connections, a few at a time.

A small pool of worker threads, each holding one keep-alive HTTP/1.1 connection per origin for
as long as the dispatcher runs. A request is written by hand (a POST with a JSON body and a few
headers is all it ever sends) and the answer is read with httptools, the C parser uvicorn uses
(chunked, content-length or until-close bodies; keep-alive as the answer says): about a fifth of
what `http.client` costs per request here, which parses every answer's headers in Python.

A short run of messages goes down one connection in order; a
backlog is cut into contiguous slices (at least `min_slice` messages each) sent over several
connections at once, so a catch-up is not bound by one round trip per message.
"""

from __future__ import annotations

import socket
import ssl
import threading
import urllib.parse
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

import httptools

from operations.webhook_messages import Message


class RemoteDisconnected(ConnectionError):
    """The receiver closed the connection before answering."""


class _Answer:
    """httptools callbacks: where one answer's parse has got to."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.headers_done = False
        self.keep_alive = False
        self.complete = False
        self.messages = 0

    def on_message_begin(self) -> None:
        self.messages += 1

    def on_headers_complete(self) -> None:
        self.headers_done = True
        # asked now: once the answer is complete the parser has forgotten its framing
        self.keep_alive = self.parser.should_keep_alive()

    def on_message_complete(self) -> None:
        self.complete = True


class Connection:
    """One kept-alive HTTP/1.1 connection to one origin (TLS for https)."""

    def __init__(self, url: urllib.parse.SplitResult, timeout_s: float) -> None:
        https = url.scheme == "https"
        host = url.hostname or ""
        sock = socket.create_connection((host, url.port or (443 if https else 80)), timeout=timeout_s)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host) if https else sock
        self.host = url.netloc.rpartition("@")[2]  # never the user:password part

    def post(self, target: str, headers: dict[str, str], body: bytes) -> tuple[int, bool]:
        """(status, whether the connection may be used again)."""
        head = f"POST {target} HTTP/1.1\r\nhost: {self.host}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.sock.sendall(f"{head}content-length: {len(body)}\r\n\r\n".encode("latin-1") + body)
        answer = _Answer()
        while not answer.complete:
            data = self.sock.recv(65536)
            if not data:
                if answer.headers_done:  # a body that ends when the connection does
                    return answer.parser.get_status_code(), False
                raise RemoteDisconnected("the receiver closed the connection without answering")
            answer.parser.feed_data(data)
        # more than one answer to one request: something is off, start afresh next time
        return answer.parser.get_status_code(), answer.keep_alive and answer.messages == 1

    def close(self) -> None:
        self.sock.close()


@dataclass(frozen=True)
class Delivery:
    """One message to one URL, signed at send time by `sign(id, sent_at, body)`."""

    url: str
    message: Message
    sign: Callable[[str, datetime, str], str]


class Sender:
    def __init__(self, timeout_s: float = 10.0, workers: int = 4, min_slice: int = 64) -> None:
        self.timeout_s = timeout_s
        self.workers = workers
        self.min_slice = min_slice
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="webhook-send")
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: set[Connection] = set()

    def send_all(self, deliveries: Sequence[Delivery]) -> list[str | None]:
        """Each delivery's outcome, in order: None when the receiver answered 2xx, else the reason."""
        if not deliveries:
            return []
        slices = max(1, min(self.workers, len(deliveries) // self.min_slice))
        if slices == 1:
            return self._send_run(deliveries)  # on this thread: no hand-over for a short run
        size = -(-len(deliveries) // slices)
        runs = [deliveries[i : i + size] for i in range(0, len(deliveries), size)]
        return [outcome for run in self._pool.map(self._send_run, runs) for outcome in run]

    def _send_run(self, deliveries: Sequence[Delivery]) -> list[str | None]:
        return [self.send(d) for d in deliveries]

    def send(self, delivery: Delivery) -> str | None:
        """POST one message on this thread's connection to its origin. A kept-alive connection the
        receiver closed meanwhile is reopened once (at-least-once: a repeat keeps its id)."""
        # The signed timestamp is the real time of this attempt (receivers refuse one more than a
        # few minutes off), whatever clock paces the retries.
        message, sent_at = delivery.message, datetime.now(UTC)
        headers = {
            "content-type": "application/json",
            "webhook-id": message.id,
            "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": delivery.sign(message.id, sent_at, message.body),
        }
        url = urllib.parse.urlsplit(delivery.url)
        target = (url.path or "/") + (f"?{url.query}" if url.query else "")
        body = message.body.encode()
        for attempt in (1, 2):
            fresh = True
            try:
                connection, fresh = self._connection(url)
                status, keep_alive = connection.post(target, headers, body)
                if not keep_alive:
                    self._drop(url)
                return None if 200 <= status < 300 else f"HTTP {status}"
            except (RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                self._drop(url)
                if fresh or attempt == 2:  # a kept-alive connection the receiver closed meanwhile: once more
                    return f"{type(exc).__name__}: {exc}"
            except (OSError, httptools.HttpParserError) as exc:
                self._drop(url)
                return f"{type(exc).__name__}: {exc}"
        return None  # pragma: no cover - the loop always returns

    def _held(self) -> dict[tuple[str, str], Connection]:
        held: dict[tuple[str, str], Connection] | None = getattr(self._local, "held", None)
        if held is None:
            held = self._local.held = {}
        return held

    def _connection(self, url: urllib.parse.SplitResult) -> tuple[Connection, bool]:
        """This thread's connection to the URL's origin, and whether it was just opened."""
        held = self._held()
        connection = held.get((url.scheme, url.netloc))
        if connection is not None:
            return connection, False
        connection = held[(url.scheme, url.netloc)] = Connection(url, self.timeout_s)
        with self._lock:
            self._all.add(connection)
        return connection, True

    def _drop(self, url: urllib.parse.SplitResult) -> None:
        connection = self._held().pop((url.scheme, url.netloc), None)
        if connection is not None:
            connection.close()
            with self._lock:
                self._all.discard(connection)

    def close(self) -> None:
        """Close every held connection and stop the workers."""
        self._pool.shutdown(wait=True)
        with self._lock:
            for connection in self._all:
                connection.close()
            self._all.clear()
