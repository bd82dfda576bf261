"""The earnings rows as last written, so each batch writes only the day parts that changed.

A batch recomputes whole days of a recording's period; most of their parts are often what was
already written. Comparing with the rows held here (loaded from the table on first use, dropped
with every other cache after a rollback) turns "delete the days, insert them again" into
upserts of the changed parts and deletes of the vanished ones.

Each part's change (new amount minus old) is also added to two sums the dashboard reads: per
account × recording × territory × currency, all time (`earn_party_total`), and per account × day
× currency (`earn_party_day`) — so they always equal the per-day rows summed, for a few rows a page.

Pool rows (kind `pool:…`, projections.pools_earnings) share `earn_account_day` but are written
by the pool fold alone: they are never loaded here, so a recomputed day never deletes them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from projections.db import ViewDB

OUT_COLUMNS = ("isrc", "day_us", "account", "currency", "kind", "territory", "amount_micros")
TOTAL_COLUMNS = ("account", "currency", "isrc", "territory", "amount_micros")
DAY_COLUMNS = ("account", "day_us", "currency", "amount_micros")
Key = tuple[Any, ...]  # isrc, day_us, account, currency, kind, territory
Month = tuple[str, int]  # isrc, month start (epoch µs)


class AccountDayRows:
    def __init__(
        self, table: str, month_end: Callable[[int], int], party_total: str | None = None, party_day: str | None = None
    ) -> None:
        self.table = table
        self.month_end = month_end
        self.party_total, self.party_day = party_total, party_day
        self._rows: dict[Month, dict[int, dict[Key, int]]] = {}  # by day, then key

    def clear(self) -> None:
        self._rows.clear()

    def write(self, db: ViewDB, fresh: dict[Month, tuple[int, list[tuple[Any, ...]]]]) -> None:
        """`fresh` holds, per recording and period, the first recomputed day and its rows since."""
        self._load(db, set(fresh) - self._rows.keys())
        upserts: list[tuple[Any, ...]] = []
        deletes: list[Key] = []
        by_total: dict[tuple[Any, ...], int] = defaultdict(int)
        by_day: dict[tuple[Any, ...], int] = defaultdict(int)
        for month, (from_day, rows) in fresh.items():
            written = self._rows[month]
            new: dict[int, dict[Key, int]] = {}
            for row in rows:
                new.setdefault(row[1], {})[row[:6]] = row[6]
            for day in {d for d in written if d >= from_day} | new.keys():
                before, after = written.get(day, {}), new.get(day, {})
                for key in before.keys() | after.keys():
                    change = after.get(key, 0) - before.get(key, 0)
                    if change:
                        _isrc, day_us, account, currency, _kind, territory = key
                        by_total[(account, currency, month[0], territory)] += change
                        by_day[(account, day_us, currency)] += change
                upserts.extend((*key, amount) for key, amount in after.items() if before.get(key) != amount)
                deletes.extend(key for key in before if key not in after)
                if after:
                    written[day] = after
                else:
                    written.pop(day, None)
        where = " AND ".join(f"{c} = ?" for c in OUT_COLUMNS[:6])
        db.executemany(f"DELETE FROM {self.table} WHERE {where}", deletes)
        db.upsert_rows(self.table, OUT_COLUMNS, 6, upserts)
        if self.party_total:
            db.add_rows(self.party_total, TOTAL_COLUMNS, 4, [(*k, v) for k, v in by_total.items() if v])
        if self.party_day:
            db.add_rows(self.party_day, DAY_COLUMNS, 3, [(*k, v) for k, v in by_day.items() if v])

    def _load(self, db: ViewDB, months: set[Month]) -> None:
        by_start: dict[int, list[str]] = defaultdict(list)
        for isrc, start in months:
            by_start[start].append(isrc)
            self._rows[(isrc, start)] = {}
        for start, isrcs in by_start.items():
            for i in range(0, len(isrcs), 500):
                chunk = isrcs[i : i + 500]
                rows = db.execute(
                    f"SELECT {','.join(OUT_COLUMNS)} FROM {self.table} WHERE day_us >= ? AND day_us < ? "
                    f"AND isrc IN ({','.join('?' * len(chunk))}) AND kind NOT LIKE 'pool:%'",
                    [start, self.month_end(start), *chunk],
                )
                for row in rows:
                    day = self._rows[(str(row[0]), start)].setdefault(int(row[1]), {})
                    day[(str(row[0]), int(row[1]), *row[2:6])] = int(row[6])
