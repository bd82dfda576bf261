"""Stripe money paths on a SQLite file: webhook sales in, payouts out by transfer.

Figures, each beside a baseline measured in this run:
  webhooks   signed payment_intent.succeeded events verified and handled (sale row + receipt),
             beside the same sales through ingest_rows one row per call (the ingestion alone)
  payouts    a payout run over N parties (lookup, transfer, PayoutSent + PayoutRecorded),
             beside bare create_transfer calls to the same local Transfers server (the HTTP floor)
`ROYALTY_BENCH_STRIPE_N` changes the count (default 300).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from tests.peers.transfers_server import running_transfers_server

from benchmarks.report import Figure, emit, peak_rss_mib, timed
from ledger.application import RoyaltyLedger
from ledger.domain.period import Period
from ledger.payments.payouts import link_payout_account, run_payouts
from ledger.payments.stripe_adapter import StripeSettings, StripeTransfers, verify_webhook
from ledger.payments.webhooks import handle_stripe_event
from ledger.store.config import StoreConfig
from ledger.store.migrate import apply_migrations
from ledger.usage.ingest import ingest_rows

BENCH = "stripe"
SECRET = b"bench-listener-secret-0123456789"
WHSEC = "whsec_bench"
KEY = "sk_test_bench_0123456789"
ISRC, UPC = "USRL12600001", "000000001007"
NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)


def fresh_ledger(tmp: Path, name: str) -> RoyaltyLedger:
    config = StoreConfig.from_url(str(tmp / f"{name}.db"))
    apply_migrations(config)
    app = RoyaltyLedger(config, clock=lambda: NOW)
    app.upsert_party("aria", "Aria", ["artist"], "bench")
    app.upsert_recording(ISRC, "Track", "Aria", 200_000, "bench")
    app.deliver_release(UPC, "Single", [ISRC], date(2026, 1, 1), "bench")
    return app


def intent(n: int) -> dict[str, Any]:
    return {
        "id": f"pi_{n:08d}",
        "object": "payment_intent",
        "amount": 100 + n,
        "currency": "eur",
        "amount_received": 100 + n,
        "metadata": {"isrc": ISRC, "listener": f"l{n % 97}", "territory": "DE"},
    }


def signed_events(n: int) -> list[tuple[bytes, str]]:
    out = []
    for i in range(n):
        event = {
            "id": f"evt_{i:08d}",
            "type": "payment_intent.succeeded",
            "object": "event",
            "created": int(datetime(2026, 10, 5, tzinfo=UTC).timestamp()) + i,
            "data": {"object": intent(i)},
        }
        payload, t = json.dumps(event).encode(), int(time.time())
        v1 = hmac.new(WHSEC.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
        out.append((payload, f"t={t},v1={v1}"))
    return out


def bench_webhooks(tmp: Path, n: int) -> None:
    events, settings = signed_events(n), StripeSettings(webhook_secret=WHSEC)
    app = fresh_ledger(tmp, "webhooks")
    took = timed(lambda: [handle_stripe_event(app, verify_webhook(p, s, settings), secret=SECRET) for p, s in events])
    base_app = fresh_ledger(tmp, "baseline")
    rows = [
        {
            "sale_id": f"pi_{i:08d}",
            "kind": "purchase",
            "occurred_at": "2026-10-05T00:00:00Z",
            "isrc": ISRC,
            "listener_id": f"l{i % 97}",
            "territory": "DE",
            "amount_micros": (100 + i) * 10_000,
            "currency": "EUR",
        }
        for i in range(n)
    ]
    base = timed(lambda: [ingest_rows(base_app, [r], actor="bench", source="stripe", secret=SECRET) for r in rows])
    emit(Figure(BENCH, "webhook sales handled", n / took, "events/s", "ingest_rows, one row per call", n / base))


def bench_payouts(tmp: Path, n: int) -> None:
    app = fresh_ledger(tmp, "payouts")
    balances = {}
    for i in range(n):
        key = f"p{i:05d}"
        app.upsert_party(key, key, ["artist"], "bench")
        link_payout_account(app, key, f"acct_{key}", "bench")
        balances[(key, "EUR")] = 10_000_000 + i * 12_345
    with running_transfers_server(KEY) as (url, _):
        gateway = StripeTransfers(StripeSettings(api_key=KEY, api_base=url))
        took = timed(
            lambda: run_payouts(app, Period.parse("2026-10"), balances, gateway, actor="bench", minimum_micros=0)
        )
        base = timed(lambda: [gateway.create_transfer(f"raw-{i}", 1000, "EUR", "acct_x", {}) for i in range(n)])
    emit(
        Figure(
            BENCH,
            "payouts sent (lookup + transfer + events)",
            n / took,
            "payouts/s",
            "bare create_transfer to the same server",
            n / base,
        )
    )


def main() -> None:
    n = int(os.environ.get("ROYALTY_BENCH_STRIPE_N", "300"))
    with tempfile.TemporaryDirectory() as tmp:
        bench_webhooks(Path(tmp), n)
        bench_payouts(Path(tmp), n)
    emit(Figure(BENCH, "peak memory", peak_rss_mib(), "MiB"))


if __name__ == "__main__":
    main()
