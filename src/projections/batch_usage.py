"""A batch's usage rows, aggregated once per recording × minute × territory × currency × kind ×
pricing model × source into a temporary table that the stats and earnings folds both read (a
usage batch has one source, so the source adds rows only where batches of two sources meet).

The usage table is scanned once per batch however many read models fold it; the temporary
table lives in the batch's transaction (emptied at commit on PostgreSQL, before each fill).
"""

from __future__ import annotations

from ledger.usage.positions import position_params, rows_between
from projections.db import ViewDB

TABLE = "batch_usage"
MINUTE_US = 60_000_000

_CREATE = {
    "sqlite": f"CREATE TEMP TABLE IF NOT EXISTS {TABLE} (isrc TEXT, minute_us INTEGER, territory TEXT, "
    "currency TEXT, kind TEXT, pricing_model TEXT, units INTEGER, streams INTEGER, counted_streams INTEGER, "
    "gross_micros INTEGER, source TEXT)",
    "postgres": f"CREATE TEMP TABLE IF NOT EXISTS {TABLE} (isrc text, minute_us bigint, territory text, "
    "currency text, kind text, pricing_model text, units bigint, streams bigint, counted_streams bigint, "
    "gross_micros bigint, source text) ON COMMIT DELETE ROWS",
}
_FILL = f"""
INSERT INTO {TABLE}
SELECT isrc, occurred_at_us - (occurred_at_us % {MINUTE_US}), territory, currency, kind, pricing_model,
       COUNT(*),
       SUM(CASE WHEN kind = 'stream' THEN 1 ELSE 0 END),
       SUM(CASE WHEN kind = 'stream' AND counted THEN 1 ELSE 0 END),
       SUM(gross_micros), source
FROM usage_rows
WHERE {{rows}}
GROUP BY isrc, occurred_at_us - (occurred_at_us % {MINUTE_US}), territory, currency, kind, pricing_model, source
"""


def batch_usage(db: ViewDB, lo: int, hi: int) -> str:
    """Fill the temporary table for positions lo…hi once per transaction; return its name."""
    if db.batch_memo.get(TABLE) != (lo, hi):
        db.execute(_CREATE[db.backend])
        db.execute(f"DELETE FROM {TABLE}")
        db.execute(_FILL.format(rows=rows_between(db.backend)), position_params(db.backend, lo, hi))
        db.batch_memo[TABLE] = (lo, hi)
    return TABLE
