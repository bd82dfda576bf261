"""The per-minute stats read model: plays, counted plays, units and revenue per recording ×
minute × territory × currency, folded from `usage_rows` in one set-based statement per batch.

Usage rows carry the position of the UsageBatch event that wrote them (same transaction), so
the batch's rows are exactly `position BETWEEN lo AND hi`; no row is read into Python.
"""

from __future__ import annotations

from typing import ClassVar

from projections.db import ViewDB
from projections.readmodel import Batch, ReadModel

MINUTE_US = 60_000_000

_FOLD = """
INSERT INTO {stats_minute}
    (isrc, minute_us, territory, currency, plays, counted_plays, units, gross_micros)
SELECT isrc, occurred_at_us - (occurred_at_us % {minute}), territory, currency,
       SUM(CASE WHEN kind = 'stream' THEN 1 ELSE 0 END),
       SUM(CASE WHEN kind = 'stream' AND counted THEN 1 ELSE 0 END),
       COUNT(*),
       SUM(gross_micros)
FROM usage_rows
WHERE position >= ? AND position <= ?
GROUP BY isrc, occurred_at_us - (occurred_at_us % {minute}), territory, currency
ON CONFLICT (isrc, minute_us, territory, currency) DO UPDATE SET
    plays = {stats_minute}.plays + excluded.plays,
    counted_plays = {stats_minute}.counted_plays + excluded.counted_plays,
    units = {stats_minute}.units + excluded.units,
    gross_micros = {stats_minute}.gross_micros + excluded.gross_micros
"""


class StatsView(ReadModel):
    name = "stats"
    tables: ClassVar[tuple[str, ...]] = ("stats_minute",)

    def fold(self, db: ViewDB, batch: Batch) -> None:
        db.execute(_FOLD.format(minute=MINUTE_US, **self.t), [batch.lo, batch.hi])
