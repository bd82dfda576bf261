"""Test support for accounting: write usage rows straight into usage_rows (the contract's table).

Accounting tests do not go through usage ingestion (issue 3): they insert rows with explicit
gross amounts at a chosen log position, so every expected number can be computed by hand.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from ledger.royalties import to_us
from ledger.store.config import StoreConfig
from ledger.store.migrate import pg_conninfo
from ledger.usage.store import PG_COLUMN_NAMES, postgres_row

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
    insert_usage_rows(config, rows)


def _hex(value: str) -> str:
    """A hash column's value as 64 hex digits (fixtures may use short placeholders)."""
    try:
        if len(bytes.fromhex(value)) == 32:
            return value
    except ValueError:
        pass
    return hashlib.sha256(value.encode()).hexdigest()


def insert_usage_rows(config: StoreConfig, rows: list[tuple[Any, ...]], cursor: Any = None) -> None:
    """Rows in COLUMNS order straight into usage_rows: as they are on SQLite; on PostgreSQL as
    the lean table stores them (migration 0040: 64-bit key, bytea hashes, no batch id, the
    position in usage_positions), placeholder hashes replaced by a SHA-256 of their text."""
    marks = ", ".join(["?"] * 20)
    if config.backend == "sqlite":
        assert config.sqlite_path is not None
        conn = sqlite3.connect(config.sqlite_path)
        with conn:
            conn.executemany(f"INSERT INTO usage_rows ({COLUMNS}) VALUES ({marks})", rows)
        conn.close()
        return
    lean = []
    for position, _batch, *line in rows:
        line[7], line[16] = _hex(line[7]), _hex(line[16])
        lean.append(postgres_row(position, line))
    with psycopg.connect(pg_conninfo(config)) as pg, pg.cursor() as cur:
        cur.executemany(f"INSERT INTO usage_rows ({PG_COLUMN_NAMES}) VALUES ({', '.join(['%s'] * len(lean[0]))})", lean)
        cur.executemany(
            "INSERT INTO usage_positions (position) VALUES (%s) ON CONFLICT DO NOTHING",
            [(p,) for p in sorted({r[0] for r in rows})],
        )
