"""Synthetic plays written the way ingest writes them: one UsageBatch event plus its usage_rows
(per the usage table contract) in one transaction, through the recorder's side-write seam.

Used by the projector tests and benchmark so they do not depend on the ingest pipeline's
pricing rules; it writes rows exactly as the contract describes, nothing more.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ledger.application import RoyaltyLedger
from ledger.domain.usage_batch import UsageBatch
from ledger.usage.digest import batch_digest
from ledger.usage.lines import lines_from_rows
from ledger.usage.months import ensure_months, months_of
from ledger.usage.store import (
    LINE_COLUMNS,
    PG_COPY,
    PG_TYPES,
    SQLITE_POSITIONS_AFTER,
    insert_sqlite_lines,
    postgres_row,
)

COLUMNS = ("position", "batch_id", *LINE_COLUMNS)  # the usage_rows contract, in table order
Row = tuple[Any, ...]  # COLUMNS without position and batch_id
# Listener references are HMACs (64 hex digits), as ingest stores them.
_LISTENERS = [hashlib.sha256(f"l{n:05d}".encode()).hexdigest() for n in range(5000)]


def make_plays(
    rng: random.Random,
    count: int,
    isrcs: Sequence[str],
    territories: Sequence[str],
    start_us: int,
    span_us: int,
    *,
    first_id: int = 0,
    currency: str = "EUR",
    rate_micros: int = 3_000,
) -> list[Row]:
    """`count` streams at a fixed rate: some under 45 s (uncounted, gross 0)."""
    rows: list[Row] = []
    for i in range(first_id, first_id + count):
        seconds = rng.choice((12, 60, 95, 180, 240))
        counted = seconds >= 45
        rows.append(
            (
                "player",
                f"p{i}",
                0,
                "stream",
                start_us + rng.randrange(span_us),
                rng.choice(isrcs),
                None,
                _LISTENERS[rng.randrange(5000)],
                rng.choice(territories),
                seconds,
                currency,
                rate_micros if counted else 0,
                "fixed_rate",
                1,
                None,
                counted,
                hashlib.sha256(f"p{i}".encode()).hexdigest(),
                None,
            )
        )
    return rows


@dataclass
class _RowsWriter:
    batch_id: str
    rows: Sequence[Row]

    def write_sqlite(self, cursor: Any, positions: Sequence[int]) -> None:
        # The lean table (migrations 0045, 0050), as ledger.usage.store writes it.
        if not self.rows:
            return
        cursor.execute("SELECT COALESCE(MAX(rowid), 0) FROM usage_rows")
        before = cursor.fetchone()[0]
        insert_sqlite_lines(cursor, positions[0], lines_from_rows(list(self.rows)))
        cursor.execute(SQLITE_POSITIONS_AFTER, (before,))

    def write_postgres(self, cursor: Any, positions: Sequence[int]) -> None:
        # The lean table (migration 0040), as ledger.usage.store writes it, a partition per month (0047).
        ensure_months(cursor, months_of(np.array([row[4] for row in self.rows], dtype=np.int64)), set())
        with cursor.copy(PG_COPY) as copy:
            copy.set_types(PG_TYPES)
            for row in self.rows:
                copy.write_row(postgres_row(positions[0], row))
        cursor.execute("INSERT INTO usage_positions (position) VALUES (%s)", (positions[0],))


def record_plays(app: RoyaltyLedger, rows: Sequence[Row], source: str = "player") -> int:
    """Record `rows` as one UsageBatch; return its position."""
    digest = batch_digest(rows, (), ())  # the canonical form, so `audit verify` holds here too
    totals: dict[str, int] = {}
    for r in rows:
        totals[r[10]] = totals.get(r[10], 0) + r[11]
    batch = UsageBatch(
        source=source,
        kind="stream",
        row_count=len(rows),
        line_count=len(rows),
        rows_sha256=digest,
        totals=totals,
        kinds={"stream": len(rows)},
        pricing_versions=[1],
        quarantined={},
        owners_acquired=0,
        resolved_quarantine=0,
        listener_key_id="bench",
        origin="synthetic",
        actor="bench",
    )
    recordings = app.save(batch, side_writes=[_RowsWriter(batch.id.hex, rows)])
    return int(recordings[-1].notification.id)
