"""Outbound webhook dispatch to a real local receiver (an asyncio HTTP server in its own process).

Figures, each beside a baseline measured in this run:
  receiver capacity   pipelined raw POSTs from one socket: what the receiver itself can take, so
                      it is seen not to be what limits the figures below
  signed deliveries   N sale.recorded events in the log, one operator subscription, pumped by the
                      WebhookDispatcher (log read in pages, events described once, Standard Webhooks
                      signature, POST over kept-alive connections, positions recorded per page),
                      beside a plain unsigned POST loop of the same bodies to the same receiver with
                      the same HTTP client (operations.webhook_http, one kept-alive connection, one
                      request at a time), and beside the same loop with the standard http.client
  party deliveries    releases and splits (events described from their aggregate's state) to four
                      subscriptions: the operator, two parties, and a party none of it concerns,
                      beside the same two plain loops of the same bodies
  page describe       describing those events for a page at once (one query, aggregates folded in
                      Python) beside one repository load per event (the dispatcher's former way)
  p99 delay           commit → receipt: `royalty webhooks dispatch` runs in its own process while
                      sales are committed one event per transaction at a steady rate; the delay is
                      the receipt time minus the event's recorded time (just before its commit)
`ROYALTY_BENCH_WEBHOOKS_N` changes the count (default 4000).
"""

from __future__ import annotations

import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from benchmarks.report import Figure, emit, peak_rss_mib, timed
from benchmarks.webhook_receiver import Receiver
from ledger.application import RoyaltyLedger
from ledger.domain.webhook_subscription import OPERATOR, WebhookSubscription
from ledger.store.config import StoreConfig
from ledger.store.migrate import apply_migrations
from ledger.usage.ingest import ingest_rows
from ledger.webhook_topics import TYPES
from operations.webhook_http import Connection
from operations.webhook_messages import describe, read_events
from operations.webhooks import WebhookDispatcher, message_id

BENCH = "webhooks"
KEY = b"bench-webhook-key-0123456789"
SECRET = b"bench-listener-secret-0123456789"
ISRC, UPC = "USRL12600001", "000000001007"
JAN_1 = datetime(2026, 1, 1, tzinfo=UTC)


def fresh_ledger(tmp: Path, name: str) -> RoyaltyLedger:
    config = StoreConfig.from_url(str(tmp / f"{name}.db"))
    apply_migrations(config)
    app = RoyaltyLedger(config)
    for key, kinds in (("aria", ["artist"]), ("lbl", ["label"]), ("carol", ["artist"])):
        app.upsert_party(key, key.title(), kinds, "bench")
    app.upsert_recording(ISRC, "Track", "Aria", 200_000, "bench")
    app.deliver_release(UPC, "Single", [ISRC], date(2026, 1, 1), "bench")
    return app


def sales(app: RoyaltyLedger, start: int, n: int) -> None:
    """n sales, one usage batch (one sale.recorded event, one transaction) each."""
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


def subscribe(
    app: RoyaltyLedger, url: str, owner: str = OPERATOR, types: tuple[str, ...] = ("sale.recorded",)
) -> WebhookSubscription:
    sub = WebhookSubscription(owner=owner, url=url, event_types=list(types), actor="bench")
    app.save(sub)
    return sub


def bodies_of(app: RoyaltyLedger, subs: list[WebhookSubscription]) -> list[bytes]:
    """The bodies the dispatcher sent, for the plain loop to send unsigned."""
    events = read_events(app, list(app.read_log(1)))
    return [e.body_for(s.owner).encode() for s in subs for e in events if e.concerns(s)]


def plain_loop(url: str, bodies: list[bytes], client: str = "same") -> float:
    """Seconds for a plain unsigned POST loop over one kept-alive connection, one request at a
    time: with the dispatcher's own HTTP client (`same`) or the standard library's `http.client`."""
    parts = urllib.parse.urlsplit(url)
    headers = {"content-type": "application/json"}
    if client == "same":
        same = Connection(parts, 10)

        def run() -> None:
            for body in bodies:
                status, _ = same.post(parts.path, headers, body)
                assert status == 204, status

        took = timed(run)
        same.close()
        return took
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)

    def run_stdlib() -> None:
        for body in bodies:
            connection.request("POST", parts.path, body, headers)
            with connection.getresponse() as answer:
                answer.read()
                assert answer.status == 204, answer.status

    took = timed(run_stdlib)
    connection.close()
    return took


def emit_beside_loops(
    name: str, n: int, took: float, url: str, bodies: list[bytes], receiver: Receiver, target: str = ""
) -> None:
    same, stdlib = plain_loop(url, bodies), plain_loop(url, bodies, "http.client")
    assert len(receiver.dump()) == 2 * n
    emit(Figure(BENCH, name, n / took, "msgs/s", "plain unsigned loop, same client, kept alive", n / same, target))
    emit(
        Figure(
            BENCH, "  the same, beside", n / took, "msgs/s", "plain unsigned loop, http.client, kept alive", n / stdlib
        )
    )


def dispatch_all(app: RoyaltyLedger, expected: int, receiver: Receiver) -> float:
    dispatcher = WebhookDispatcher(app, KEY, per_pass=1_000_000)
    counts: dict[str, int] = {}
    took = timed(lambda: counts.update(dispatcher.run_once()))
    dispatcher.close()
    assert counts == {"delivered": expected, "failed": 0, "dead_lettered": 0}, counts
    received = receiver.dump()
    assert len(received) == expected, len(received)
    return took


def bench_sales(tmp: Path, n: int, receiver: Receiver) -> None:
    app = fresh_ledger(tmp, "sales")
    sub = subscribe(app, receiver.url)
    sales(app, 0, n)
    head = app.head_position()
    took = dispatch_all(app, n, receiver)
    assert app.repository.get(sub.id).position >= head - 1, "position not recorded"
    emit_beside_loops(
        f"signed deliveries, {n} sales (log → sign → POST → position)",
        n,
        took,
        receiver.url,
        bodies_of(app, [sub]),
        receiver,
        ">= 2000 msgs/s",
    )


def _upc(i: int) -> str:
    digits = f"{900000000000 + i:012d}"[:11]
    odd = sum(int(d) for d in digits[0::2])
    even = sum(int(d) for d in digits[1::2])
    return digits + str((10 - (odd * 3 + even) % 10) % 10)


def bench_parties(tmp: Path, m: int, receiver: Receiver) -> None:
    app = fresh_ledger(tmp, "parties")
    types = ("release.delivered", "split.proposed", "split.activated")
    subs = [subscribe(app, receiver.url, owner, types) for owner in (OPERATOR, "aria", "lbl", "carol")]
    for i in range(m):
        isrc = f"USRL127{i:05d}"
        app.upsert_recording(isrc, f"Track {i}", "Aria", 200_000, "bench")
        app.deliver_release(_upc(i), f"Single {i}", [isrc], date(2026, 1, 1), "bench", label_key="lbl")
        app.set_split("master", isrc, {"aria": 600_000, "lbl": 400_000}, JAN_1, "bench", "initial")
    bodies = bodies_of(app, subs)
    took = dispatch_all(app, len(bodies), receiver)
    emit_beside_loops(
        f"signed deliveries, {len(bodies)} release/split msgs, 4 subs",
        len(bodies),
        took,
        receiver.url,
        bodies,
        receiver,
    )
    notes = list(app.read_log(1))
    paged = min(timed(lambda: read_events(app, notes)) for _ in range(3))
    per_event = min(timed(lambda: describe_per_event(app, notes)) for _ in range(3))
    emit(
        Figure(
            BENCH,
            "describe a page of log events",
            len(notes) / paged,
            "events/s",
            "one repository load per event",
            len(notes) / per_event,
        )
    )


def describe_per_event(app: RoyaltyLedger, notes: list[Any]) -> None:
    for note in notes:
        if note.topic.rpartition(":")[2] not in TYPES:  # the former dispatcher read its topics only
            continue
        event = app.decode(note)
        name = type(event).__qualname__
        stateful = name.startswith(("Release.", "SplitAgreement.", "Dispute.", "PayoutTransfer."))
        aggregate = app.repository.get(event.originator_id, version=event.originator_version) if stateful else None
        if name in ("Release.Delivered", "SplitAgreement.SplitVersionProposed", "SplitAgreement.SplitVersionActivated"):
            describe(event, name, aggregate)


def bench_delay(tmp: Path, n: int, rate: float, receiver: Receiver) -> None:
    app = fresh_ledger(tmp, "delay")
    sub = subscribe(app, receiver.url)
    env = {**os.environ, "ROYALTY_DATABASE_URL": str(tmp / "delay.db"), "ROYALTY_WEBHOOK_KEY": KEY.decode()}
    dispatcher = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "webhooks", "dispatch"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        sales(app, n, 1)  # a first message: the timing starts once the dispatcher has delivered it
        deadline = time.monotonic() + 120
        while not receiver.dump() and time.monotonic() < deadline:
            time.sleep(0.1)
        started = time.perf_counter()
        for i in range(n):
            lag = started + i / rate - time.perf_counter()
            if lag > 0:
                time.sleep(lag)
            sales(app, i, 1)
        achieved = n / (time.perf_counter() - started)
        deadline, received = time.monotonic() + 60, {}
        while time.monotonic() < deadline:
            received.update(receiver.dump())
            if len(received) >= n:
                break
            time.sleep(0.2)
    finally:
        dispatcher.terminate()
        dispatcher.wait(timeout=10)
    committed = {
        int(note.id): app.decode(note).timestamp.timestamp()
        for note in app.read_log(1)
        if note.topic.endswith("UsageBatch.Recorded")
    }
    del committed[min(committed)]  # the first message
    delays = sorted((received[message_id(sub.id, p)] - t) * 1000 for p, t in committed.items())
    assert len(delays) == n, (len(delays), n)
    emit(
        Figure(
            BENCH,
            f"p99 delay commit → receipt ({achieved:.0f} commits/s)",
            delays[int(0.99 * (len(delays) - 1))],
            "ms",
            "median",
            statistics.median(delays),
        )
    )


def main() -> None:
    n = int(os.environ.get("ROYALTY_BENCH_WEBHOOKS_N", "4000"))
    with tempfile.TemporaryDirectory() as tmp, Receiver() as receiver:
        capacity = receiver.capacity(20_000, b'{"type":"sale.recorded","data":{"source":"store"}}' * 4)
        emit(Figure(BENCH, "receiver capacity (pipelined raw POSTs)", capacity, "req/s"))
        bench_sales(Path(tmp), n, receiver)
        bench_parties(Path(tmp), max(50, n // 20), receiver)
        bench_delay(Path(tmp), min(n, 1000), 200.0, receiver)
    emit(Figure(BENCH, "peak memory", peak_rss_mib(), "MiB"))


if __name__ == "__main__":
    main()
