"""The earnings read model: gross per recording × currency × kind × territory × pricing model ×
day, and what each account earned from it per day — by the statement rules.
"""

from __future__ import annotations

from typing import ClassVar

from projections.db import ViewDB
from projections.readmodel import Batch, ReadModel

DAY_US = 86_400_000_000

_FOLD_GROSS = """
INSERT INTO {earn_gross_day}
    (isrc, currency, kind, territory, pricing_model, day_us, units, gross_micros)
SELECT isrc, currency, kind, territory, pricing_model, occurred_at_us - (occurred_at_us % {day}),
       COUNT(*), SUM(gross_micros)
FROM usage_rows
WHERE position >= ? AND position <= ?
GROUP BY isrc, currency, kind, territory, pricing_model, occurred_at_us - (occurred_at_us % {day})
ON CONFLICT (isrc, currency, kind, territory, pricing_model, day_us) DO UPDATE SET
    units = {earn_gross_day}.units + excluded.units,
    gross_micros = {earn_gross_day}.gross_micros + excluded.gross_micros
"""


class EarningsView(ReadModel):
    name = "earnings"
    tables: ClassVar[tuple[str, ...]] = ("earn_gross_day", "earn_account_day")

    def fold(self, db: ViewDB, batch: Batch) -> None:
        db.execute(_FOLD_GROSS.format(day=DAY_US, **self.t), [batch.lo, batch.hi])
