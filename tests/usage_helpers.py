"""Shared set-up for usage tests: a small live catalogue, pricing, a listener secret."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from stdnum import ean

from ledger.application import RoyaltyLedger
from ledger.usage.ingest import ingest_rows
from ledger.usage.pricing_commands import demo_pricing

SECRET = b"test-listener-secret-0123456789"
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
ISRCS = [f"USRL1260{n:04d}" for n in range(1, 5)]


def upc(n: int) -> str:
    body = f"{n:011d}"
    return body + ean.calc_check_digit(body)


ALBUM, SINGLE = upc(100), upc(200)


def build_catalogue(app: RoyaltyLedger, *, with_single: bool = True) -> None:
    app.upsert_party("aria", "Aria Lune", ["artist"], "test")
    for n, isrc in enumerate(ISRCS):
        app.upsert_recording(isrc, f"Track {n}", "Aria Lune", 200_000, "test")
    app.deliver_release(ALBUM, "Album", ISRCS[:3], date(2026, 1, 9), "test")
    if with_single:
        app.deliver_release(SINGLE, "Single", ISRCS[3:], date(2026, 6, 1), "test")
    app.set_pricing(demo_pricing("EUR"), "test pricing", "test")


def play(
    play_id: str,
    *,
    isrc: str = ISRCS[0],
    listener: str = "l1",
    seconds: int = 60,
    at: str = "2026-10-05T10:00:00Z",
    territory: str = "DE",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "play_id": play_id,
        "occurred_at": at,
        "isrc": isrc,
        "listener_id": listener,
        "territory": territory,
        "seconds_played": seconds,
        **extra,
    }


def sale(
    sale_id: str,
    amount: str,
    *,
    kind: str = "purchase",
    currency: str = "EUR",
    at: str = "2026-10-05T10:00:00Z",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "sale_id": sale_id,
        "kind": kind,
        "occurred_at": at,
        "listener_id": "buyer",
        "territory": "DE",
        "amount": amount,
        "currency": currency,
        **extra,
    }


def clock() -> datetime:
    return NOW


def ingest(app: RoyaltyLedger, rows: list[dict[str, Any]], batch_size: int = 1000) -> Any:
    """Ingest rows as the tests' actor, with the tests' listener secret."""
    return ingest_rows(app, rows, actor="test", secret=SECRET, batch_size=batch_size)
