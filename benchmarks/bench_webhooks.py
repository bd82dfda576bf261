"""Outbound webhook dispatch to a real local receiver (an HTTP server in its own process).

Figures, each beside a baseline measured in this run:
  signed deliveries   N sale.recorded events in the log (one operator subscription) pumped by the
                      WebhookDispatcher (log read, message built, Standard Webhooks signature,
                      POST, position recorded), beside a plain unsigned POST loop (urllib, one
                      request per message, the same bodies) to the same receiver
  p99 delay           commit → receipt: events committed in small bursts, each burst followed by
                      one dispatcher pass; the delay is the receiver's receipt time minus the
                      event's recorded time (the commit), in ms
`ROYALTY_BENCH_WEBHOOKS_N` changes the count (default 2000).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import statistics
import tempfile
import time
import urllib.request
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from benchmarks.report import Figure, emit, peak_rss_mib, timed
from ledger.application import RoyaltyLedger
from ledger.domain.webhook_subscription import OPERATOR, WebhookSubscription
from ledger.store.config import StoreConfig
from ledger.store.migrate import apply_migrations
from ledger.usage.ingest import ingest_rows
from operations.webhooks import WebhookDispatcher

BENCH = "webhooks"
KEY = b"bench-webhook-key-0123456789"
SECRET = b"bench-listener-secret-0123456789"
ISRC, UPC = "USRL12600001", "000000001007"


def _serve(port_out: Any, stop: Any, receipts_out: Any) -> None:
    receipts: dict[str, float] = {}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive for clients that reuse the connection

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["content-length"]))
            receipts[self.headers.get("webhook-id") or f"plain-{len(receipts)}"] = time.time()
            self.send_response(204)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port_out.put(server.server_address[1])
    import threading

    threading.Thread(target=server.serve_forever, daemon=True).start()
    while True:
        command = stop.get()
        if command == "dump":
            receipts_out.put(dict(receipts))
            receipts.clear()
        else:
            break
    server.shutdown()


class Receiver:
    def __enter__(self) -> Receiver:
        ctx = multiprocessing.get_context("spawn")
        self.ports, self.commands, self.receipts = ctx.Queue(), ctx.Queue(), ctx.Queue()
        self.process = ctx.Process(target=_serve, args=(self.ports, self.commands, self.receipts), daemon=True)
        self.process.start()
        self.url = f"http://127.0.0.1:{self.ports.get(timeout=30)}/hook"
        return self

    def dump(self) -> dict[str, float]:
        self.commands.put("dump")
        got: dict[str, float] = self.receipts.get(timeout=60)
        return got

    def __exit__(self, *_: Any) -> None:
        self.commands.put("stop")
        self.process.join(timeout=10)


def fresh_ledger(tmp: Path, name: str) -> RoyaltyLedger:
    config = StoreConfig.from_url(str(tmp / f"{name}.db"))
    apply_migrations(config)
    app = RoyaltyLedger(config)
    app.upsert_party("aria", "Aria", ["artist"], "bench")
    app.upsert_recording(ISRC, "Track", "Aria", 200_000, "bench")
    app.deliver_release(UPC, "Single", [ISRC], date(2026, 1, 1), "bench")
    return app


def sales(app: RoyaltyLedger, start: int, n: int) -> None:
    """n sales, one usage batch (one sale.recorded event) each."""
    rows = [
        {
            "sale_id": f"s{i:08d}",
            "kind": "purchase",
            "occurred_at": "2026-10-05T00:00:00Z",
            "isrc": ISRC,
            "listener_id": f"l{i % 97}",
            "territory": "DE",
            "amount_micros": 990_000,
            "currency": "EUR",
        }
        for i in range(start, start + n)
    ]
    ingest_rows(app, rows, actor="bench", source="store", batch_size=1, secret=SECRET)


def subscribe(app: RoyaltyLedger, url: str) -> WebhookSubscription:
    sub = WebhookSubscription(owner=OPERATOR, url=url, event_types=["sale.recorded"], actor="bench")
    app.save(sub)
    return sub


def bench_throughput(tmp: Path, n: int, receiver: Receiver) -> None:
    app = fresh_ledger(tmp, "throughput")
    sales(app, 0, n)
    last_sale = app.head_position()
    sub = subscribe(app, receiver.url)
    dispatcher = WebhookDispatcher(app, KEY, per_pass=n)
    counts: dict[str, int] = {}
    took = timed(lambda: counts.update(dispatcher.run_once()))
    assert counts["delivered"] == n, counts
    assert app.repository.get(sub.id).position >= last_sale, "position not recorded"
    received = receiver.dump()
    assert len(received) == n, len(received)
    bodies = [json.dumps({"type": "sale.recorded", "n": i, "data": {"source": "store"}}).encode() for i in range(n)]

    def plain() -> None:
        for body in bodies:
            request = urllib.request.Request(  # noqa: S310 - loopback
                receiver.url, body, {"content-type": "application/json"}, method="POST"
            )
            with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - loopback
                answer.read()

    base = timed(plain)
    assert len(receiver.dump()) == n
    emit(
        Figure(
            BENCH,
            "signed deliveries (log → sign → POST → position)",
            n / took,
            "msgs/s",
            "plain unsigned POST loop, same receiver",
            n / base,
            target=">= 2000 msgs/s",
        )
    )


def bench_delay(tmp: Path, n: int, receiver: Receiver, burst: int = 20) -> None:
    app = fresh_ledger(tmp, "delay")
    subscribe(app, receiver.url)
    dispatcher = WebhookDispatcher(app, KEY)
    committed: dict[int, float] = {}
    for start in range(0, n, burst):
        sales(app, start, burst)
        dispatcher.run_once()
    for notification in app.read_log(1):
        event = app.decode(notification)
        if type(event).__qualname__ == "UsageBatch.Recorded":
            committed[int(notification.id)] = event.timestamp.timestamp()
    received = receiver.dump()
    from operations.webhooks import message_id

    sub_id = next(iter(app.aggregate_ids_with(WebhookSubscription.Created)))
    delays = sorted((received[message_id(sub_id, p)] - t) * 1000 for p, t in committed.items())
    assert len(delays) == n, len(delays)
    p99 = delays[int(0.99 * (len(delays) - 1))]
    emit(
        Figure(
            BENCH,
            f"p99 delay commit → receipt (bursts of {burst})",
            p99,
            "ms",
            "median",
            statistics.median(delays),
        )
    )


def main() -> None:
    n = int(os.environ.get("ROYALTY_BENCH_WEBHOOKS_N", "2000"))
    with tempfile.TemporaryDirectory() as tmp, Receiver() as receiver:
        bench_throughput(Path(tmp), n, receiver)
        bench_delay(Path(tmp), min(n, 500), receiver)
    emit(Figure(BENCH, "peak memory", peak_rss_mib(), "MiB"))


if __name__ == "__main__":
    main()
