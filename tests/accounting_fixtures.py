"""Test support for accounting: write usage rows straight into usage_rows (the contract's table).

Accounting tests do not go through usage ingestion (issue 3): they insert rows with explicit
gross amounts at a chosen log position, so every expected number can be computed by hand.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

import psycopg

from ledger.royalties import to_us
from ledger.store.config import StoreConfig
from ledger.store.migrate import pg_conninfo

COLUMNS = (
    "position, batch_id, source, usage_id, line_no, kind, occurred_at_us, isrc, upc, "
    "listener_hash, territory, seconds_played, currency, gross_micros, pricing_model, "
    "pricing_version, play_number, counted, payload_sha256, refund_of"
)


@dataclass(frozen=True)
class Play:
    usage_id: str
    isrc: str
    occurred_at: datetime
    gross_micros: int
    currency: str = "EUR"
    territory: str = "DE"
    kind: str = "stream"
    pricing_model: str = "fixed_rate"
    refund_of: str | None = None  # a refund names the sale (usage id of source "test") it reverses
    line_no: int = 0


def insert_usage(config: StoreConfig, position: int, plays: list[Play]) -> None:
    rows = [
        (
            position,
            "test-batch",
            "test",
            p.usage_id,
            p.line_no,
            p.kind,
            to_us(p.occurred_at),
            p.isrc,
            None,
            "listener",
            p.territory,
            60 if p.kind == "stream" else None,
            p.currency,
            p.gross_micros,
            p.pricing_model,
            1,
            None,
            True,
            "sha",
            p.refund_of,
        )
        for p in plays
    ]
    marks = ", ".join(["?"] * 20)
    if config.backend == "sqlite":
        assert config.sqlite_path is not None
        conn = sqlite3.connect(config.sqlite_path)
        with conn:
            conn.executemany(f"INSERT INTO usage_rows ({COLUMNS}) VALUES ({marks})", rows)
        conn.close()
    else:
        with psycopg.connect(pg_conninfo(config)) as pg, pg.cursor() as cur:
            cur.executemany(f"INSERT INTO usage_rows ({COLUMNS}) VALUES ({marks.replace('?', '%s')})", rows)
