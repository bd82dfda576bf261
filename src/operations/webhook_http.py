"""Signed POSTs over kept-alive connections, a few at a time.

A small pool of worker threads, each holding one keep-alive `http.client` connection per origin
for as long as the dispatcher runs. A short run of messages goes down one connection in order; a
backlog is cut into contiguous slices (at least `min_slice` messages each) sent over several
connections at once, so a catch-up is not bound by one round trip per message.
"""

from __future__ import annotations

import http.client
import threading
import urllib.parse
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

from operations.webhook_messages import Message


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
        self._all: set[http.client.HTTPConnection] = set()

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
            connection = self._connection(url)
            try:
                connection.request("POST", target, body, headers)
                with connection.getresponse() as answer:
                    answer.read()
                    status = answer.status
                    if answer.will_close:
                        self._drop(url)
                return None if 200 <= status < 300 else f"HTTP {status}"
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                self._drop(url)
                if attempt == 2:
                    return f"{type(exc).__name__}: {exc}"
            except (http.client.HTTPException, OSError) as exc:
                self._drop(url)
                return f"{type(exc).__name__}: {exc}"
        return None  # pragma: no cover - the loop always returns

    def _held(self) -> dict[tuple[str, str], http.client.HTTPConnection]:
        held: dict[tuple[str, str], http.client.HTTPConnection] | None = getattr(self._local, "held", None)
        if held is None:
            held = self._local.held = {}
        return held

    def _connection(self, url: urllib.parse.SplitResult) -> http.client.HTTPConnection:
        held = self._held()
        connection = held.get((url.scheme, url.netloc))
        if connection is None:
            kind = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
            connection = held[(url.scheme, url.netloc)] = kind(url.hostname or "", url.port, timeout=self.timeout_s)
            with self._lock:
                self._all.add(connection)
        return connection

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
