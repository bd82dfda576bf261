"""The per-minute stats read model: plays, counted plays, units and revenue per recording ×
minute × territory × currency, folded from `usage_rows` in one set-based statement per batch.

Usage rows carry the position of the UsageBatch event that wrote them (same transaction), so
the batch's rows are exactly `position BETWEEN lo AND hi` (pre-aggregated once per batch by
`batch_usage`); no row is read into Python.
"""

from __future__ import annotations

from typing import ClassVar

from projections.batch_usage import batch_usage
from projections.db import ViewDB
from projections.readmodel import Batch, ReadModel

MINUTE_US = 60_000_000

_FOLD = """
INSERT INTO {stats_minute}
    (isrc, minute_us, territory, currency, plays, counted_plays, units, gross_micros)
SELECT isrc, minute_us, territory, currency, SUM(streams), SUM(counted_streams), SUM(units), SUM(gross_micros)
FROM {usage}
GROUP BY isrc, minute_us, territory, currency
ON CONFLICT (isrc, minute_us, territory, currency) DO UPDATE SET
    plays = {stats_minute}.plays + excluded.plays,
    counted_plays = {stats_minute}.counted_plays + excluded.counted_plays,
    units = {stats_minute}.units + excluded.units,
    gross_micros = {stats_minute}.gross_micros + excluded.gross_micros
"""


HOUR_US = 60 * MINUTE_US

# The same figures per hour and source (migration 0014), for ranking and charting by source.
_FOLD_SOURCE = """
INSERT INTO {stats_source_hour}
    (isrc, hour_us, source, territory, currency, plays, counted_plays, units, gross_micros)
SELECT isrc, minute_us - (minute_us % {hour}), source, territory, currency,
       SUM(streams), SUM(counted_streams), SUM(units), SUM(gross_micros)
FROM {usage}
GROUP BY isrc, minute_us - (minute_us % {hour}), source, territory, currency
ON CONFLICT (isrc, hour_us, source, territory, currency) DO UPDATE SET
    plays = {stats_source_hour}.plays + excluded.plays,
    counted_plays = {stats_source_hour}.counted_plays + excluded.counted_plays,
    units = {stats_source_hour}.units + excluded.units,
    gross_micros = {stats_source_hour}.gross_micros + excluded.gross_micros
"""


DAY_US = 24 * HOUR_US

# And per day (migration 0015): what charts and rankings by day, week, month and year read.
_FOLD_DAY = _FOLD_SOURCE.replace("{stats_source_hour}", "{stats_day}").replace("hour_us", "day_us")


# And all time (migration 0018): the dashboard's pies and rankings read a recording's totals.
_FOLD_TOTAL = """
INSERT INTO {stats_total}
    (isrc, source, territory, currency, plays, counted_plays, units, gross_micros)
SELECT isrc, source, territory, currency, SUM(streams), SUM(counted_streams), SUM(units), SUM(gross_micros)
FROM {usage}
GROUP BY isrc, source, territory, currency
ON CONFLICT (isrc, source, territory, currency) DO UPDATE SET
    plays = {stats_total}.plays + excluded.plays,
    counted_plays = {stats_total}.counted_plays + excluded.counted_plays,
    units = {stats_total}.units + excluded.units,
    gross_micros = {stats_total}.gross_micros + excluded.gross_micros
"""


class StatsView(ReadModel):
    name = "stats"
    tables: ClassVar[tuple[str, ...]] = ("stats_minute", "stats_source_hour", "stats_day", "stats_total")

    def fold(self, db: ViewDB, batch: Batch) -> None:
        usage = batch_usage(db, batch.lo, batch.hi)
        db.execute(_FOLD.format(usage=usage, **self.t))
        db.execute(_FOLD_SOURCE.format(usage=usage, hour=HOUR_US, **self.t))
        db.execute(_FOLD_DAY.format(usage=usage, hour=DAY_US, **self.t))
        db.execute(_FOLD_TOTAL.format(usage=usage, **self.t))
