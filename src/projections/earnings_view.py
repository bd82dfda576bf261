"""The earnings read model: what each account earned per recording × day × kind × territory,
computed with the statement rules (ledger.royalties: rights timeline + allocate_key).

Gross is folded set-based into `earn_gross_day`. An allocation key is (period, currency,
recording, kind, territory, allocation context); a day's part is the cumulative difference
LR(G up to d) − LR(G up to d−1) per key, so a period's days add up to exactly what a statement
allocates for it. Each batch re-allocates only what it can have changed: from the earliest day
with new gross in each (recording, period), or whole periods of a recording whose rights
changed. Gross per cell is cached in memory between batches and dropped on any rollback.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, ClassVar

from ledger.royalties import history as rights
from ledger.royalties.allocation import AllocationContext
from ledger.royalties.history import RightsHistory, read_rights_history
from ledger.royalties.keys import AllocationKey, allocate_accounts, refund_key
from ledger.royalties.timeline import Segment, rights_timeline
from ledger.usage.keys import sale_of_refund
from ledger.usage.positions import position_params, rows_between
from projections.batch_usage import batch_usage
from projections.db import ViewDB
from projections.earnings_rows import AccountDayRows
from projections.pools_earnings import PoolEarnings
from projections.readmodel import Batch, ReadModel
from projections.reports_earnings import fold_report_cells
from projections.statements.reports import unmatched_context, with_withholding

DAY_US = 86_400_000_000
ALL = "*"
Cell = tuple[str, str, str, str]  # currency, kind, territory, pricing_model
Month = tuple[str, int]  # isrc, month start (epoch µs)

_FOLD_GROSS = """
INSERT INTO {earn_gross_day}
    (isrc, currency, kind, territory, pricing_model, day_us, units, gross_micros)
SELECT isrc, currency, kind, territory, pricing_model, minute_us - (minute_us % {day}), SUM(units), SUM(gross_micros)
FROM {usage}
WHERE kind <> 'refund'
GROUP BY isrc, currency, kind, territory, pricing_model, minute_us - (minute_us % {day})
ON CONFLICT (isrc, currency, kind, territory, pricing_model, day_us) DO UPDATE SET
    units = {earn_gross_day}.units + excluded.units,
    gross_micros = {earn_gross_day}.gross_micros + excluded.gross_micros
RETURNING isrc, currency, kind, territory, pricing_model, day_us, gross_micros
"""


# Refunds of the batch with what decides their key (ledger.royalties.keys): the sale's kind,
# model, territory and instant, by the sale line each refund line reverses.
_FOLD_REFUNDS = """
INSERT INTO {earn_refund_day}
    (isrc, currency, territory, sale_kind, sale_model, sale_at_us, day_us, units, gross_micros)
SELECT COALESCE(s.isrc, r.isrc), r.currency, COALESCE(s.territory, r.territory), COALESCE(s.kind, r.kind),
       COALESCE(s.pricing_model, r.pricing_model), COALESCE(s.occurred_at_us, r.occurred_at_us),
       r.occurred_at_us - (r.occurred_at_us % {day}), COUNT(*), SUM(r.gross_micros)
FROM usage_rows r {sale}
WHERE {rows} AND r.kind = 'refund'
GROUP BY 1, 2, 3, 4, 5, 6, 7
ON CONFLICT (isrc, currency, territory, sale_kind, sale_model, sale_at_us, day_us) DO UPDATE SET
    units = {earn_refund_day}.units + excluded.units,
    gross_micros = {earn_refund_day}.gross_micros + excluded.gross_micros
RETURNING isrc, day_us
"""
RefundCell = tuple[str, str, str, str, str, int, int]  # isrc, currency, territory, kind, model, sale at, day


@lru_cache(maxsize=4_096)
def month_bounds(day_us: int) -> tuple[int, int]:
    day = datetime.fromtimestamp(day_us // 1_000_000, tz=UTC)
    start = datetime(day.year, day.month, 1, tzinfo=UTC)
    end = datetime(day.year + day.month // 12, day.month % 12 + 1, 1, tzinfo=UTC)
    return int(start.timestamp()) * 1_000_000, int(end.timestamp()) * 1_000_000


class EarningsView(ReadModel):
    name = "earnings"
    tables: ClassVar[tuple[str, ...]] = (
        "earn_gross_day",
        "earn_account_day",
        "earn_refund_day",
        "earn_party_total",
        "earn_party_day",
        "earn_pool_month",
    )

    def __init__(self, app: Any, *, rebuild: bool = False) -> None:
        super().__init__(app, rebuild=rebuild)
        self._history: RightsHistory | None = None
        self._cells: dict[Month, dict[int, dict[Cell, int]]] = {}  # gross by day, then cell
        self._bases: dict[Month, _Base] = {}
        self._refunds: dict[str, dict[RefundCell, int]] = {}  # per recording: refund gross by cell
        self._written = AccountDayRows(
            self.t["earn_account_day"],
            lambda start: month_bounds(start)[1],
            self.t["earn_party_total"],
            self.t["earn_party_day"],
        )
        self._topics = set(app.topics_of(*rights.RIGHTS_EVENT_CLASSES))  # the statement rules' own event set
        self._pools = PoolEarnings(app.config, self.t)

    def reset_caches(self) -> None:
        self._history = None
        self._cells.clear()
        self._bases.clear()
        self._refunds.clear()
        self._written.clear()
        self._pools.reset()

    def fold(self, db: ViewDB, batch: Batch) -> None:
        h = self._history_before(batch.lo)
        rights_changed = self._fold_rights(h, batch)
        dirty: dict[Month, int] = {}
        # One scan of the batch's usage rows: the upsert returns each touched cell's new total.
        usage = batch_usage(db, batch.lo, batch.hi)
        totals = db.execute(_FOLD_GROSS.format(day=DAY_US, usage=usage, **self.t))
        self._load_missing(db, {(str(r[0]), month_bounds(int(r[5]))[0]) for r in totals})
        for isrc, cur, kind, terr, model, day, gross in totals:
            month = (str(isrc), month_bounds(int(day))[0])
            self._cells[month].setdefault(int(day), {})[(cur, kind, terr, model)] = int(gross)
            dirty[month] = min(dirty.get(month, int(day)), int(day))
        for isrc, day in self._fold_refunds(db, batch, usage):
            month = (isrc, month_bounds(day)[0])
            self._load_missing(db, {month})
            dirty[month] = min(dirty.get(month, day), day)
        # Imported sales reports (issue 20): their cells change with reports, links and catalogue facts.
        for isrc, day in fold_report_cells(db, self.t["earn_gross_day"], self.app.config, h, batch):
            month = (str(isrc), month_bounds(int(day))[0])
            self._cells.pop(month, None)
            self._bases.pop(month, None)
            self._load_missing(db, {month})
            dirty[month] = month[1]
        changed = self._months_of(db, rights_changed)
        self._load_missing(db, changed)
        for month in changed:
            dirty[month] = month[1]
        fresh = {
            month: (from_day, self._reallocate(db, h, month, from_day, batch.hi))
            for month, from_day in sorted(dirty.items())
        }
        self._written.write(db, fresh)
        # Pool money (issue 17): each month's pools as a statement at batch.hi distributes them.
        streams = {int(r[5]) for r in totals if r[2] == "stream"}
        self._pools.fold(db, h, batch, rights_changed=bool(rights_changed), stream_days=streams)

    def _history_before(self, lo: int) -> RightsHistory:
        if self._history is None or self._history.upto != lo - 1:
            self._history = read_rights_history(self.app, upto=lo - 1, skip=self.skipped)
        return self._history

    def _fold_rights(self, h: RightsHistory, batch: Batch) -> set[str]:
        """Fold the batch's rights events; return recordings whose allocation may have changed."""
        events = [n for n in batch.notifications if n.topic in self._topics]
        if events:
            before = _facts(h)
            for n in events:
                h.fold(n.id, self.app.decode(n))
        h.upto = batch.hi
        if not events:
            return set()
        after = _facts(h)
        changed = {key for key in after.keys() | before.keys() if after.get(key) != before.get(key)}
        if ("pie", "") in changed:
            return {ALL}
        isrcs = {subject for kind, subject in changed if kind in ("master", "isrc")}
        works = {subject for kind, subject in changed if kind == "publishing"}
        if works:
            isrcs |= {i for i, links in h.work_links.items() if any(w in works for _, w in links)}
        return isrcs

    def _fold_refunds(self, db: ViewDB, batch: Batch, usage: str) -> list[tuple[str, int]]:
        """Fold the batch's refunds (if any); return the (recording, day) of each one folded."""
        if not db.execute(f"SELECT 1 FROM {usage} WHERE kind = 'refund' LIMIT 1"):
            return []
        touched = [
            (str(isrc), int(day))
            for isrc, day in db.execute(
                _FOLD_REFUNDS.format(
                    day=DAY_US, sale=sale_of_refund(db.backend), rows=rows_between(db.backend, "r."), **self.t
                ),
                position_params(db.backend, batch.lo, batch.hi),
            )
        ]
        for isrc, _ in touched:
            self._refunds.pop(isrc, None)
        return touched

    def _refunds_of(self, db: ViewDB, isrc: str) -> dict[RefundCell, int]:
        found = self._refunds.get(isrc)
        if found is None:
            rows = db.execute(
                "SELECT isrc, currency, territory, sale_kind, sale_model, sale_at_us, day_us, gross_micros "
                f"FROM {self.t['earn_refund_day']} WHERE isrc = ?",
                [isrc],
            )
            found = self._refunds[isrc] = {(str(r[0]), *r[1:5], int(r[5]), int(r[6])): int(r[7]) for r in rows}
        return found

    def _months_of(self, db: ViewDB, isrcs: set[str]) -> set[Month]:
        if not isrcs:
            return set()
        rows = []
        for table in (self.t["earn_gross_day"], self.t["earn_refund_day"]):
            if ALL in isrcs:
                rows += db.execute(f"SELECT DISTINCT isrc, day_us FROM {table}")
            else:
                for isrc in sorted(isrcs):
                    rows += db.execute(f"SELECT DISTINCT isrc, day_us FROM {table} WHERE isrc = ?", [isrc])
        return {(str(isrc), month_bounds(int(day))[0]) for isrc, day in rows}

    def _load_missing(self, db: ViewDB, months: set[Month]) -> None:
        """Cache the gross cells of months not cached yet: one query per month and 500 recordings."""
        by_start: dict[int, list[str]] = defaultdict(list)
        for isrc, start in months - self._cells.keys():
            by_start[start].append(isrc)
            self._cells[(isrc, start)] = {}
        for start, isrcs in by_start.items():
            for i in range(0, len(isrcs), 500):
                chunk = isrcs[i : i + 500]
                rows = db.execute(
                    "SELECT isrc, currency, kind, territory, pricing_model, day_us, gross_micros "
                    f"FROM {self.t['earn_gross_day']} WHERE day_us >= ? AND day_us < ? "
                    f"AND isrc IN ({','.join('?' * len(chunk))})",
                    [*month_bounds(start), *chunk],
                )
                for isrc, cur, kind, terr, model, day, gross in rows:
                    self._cells[(str(isrc), start)].setdefault(int(day), {})[(cur, kind, terr, model)] = int(gross)

    def _reallocate(
        self, db: ViewDB, h: RightsHistory, month: Month, from_day: int, as_of: int
    ) -> list[tuple[Any, ...]]:
        isrc, start = month
        end = month_bounds(start)[1]
        segments = rights_timeline(h, isrc, start, end, as_of)
        keys = _KeyedGross(isrc, segments)
        keys.history, keys.as_of = h, as_of  # withholding on report lines (reports_earnings)
        # Days before a remembered day keep their gross while the timeline is unchanged: start
        # from the cumulative per key up to that day instead of summing the period again.
        base = self._bases.get(month)
        first = start
        if base is not None and base.segments == segments and base.upto <= from_day:
            keys.cumulative.update(base.cumulative)
            first = base.upto
        split_days = {s.start_us - s.start_us % DAY_US for s in segments[1:]}
        by_day = self._cells[month]
        for day in sorted(d for d in by_day if d >= first):
            if day not in split_days:
                segment = keys.segment_at(day)
                for cell, gross in by_day[day].items():
                    keys.add(cell, day, gross, segment)
                continue
            for cell, gross in by_day[day].items():
                if "@" in cell[1]:  # a report line: its instant is the day's start (reports_earnings)
                    keys.add(cell, day, gross, keys.segment_at(day))
            for index, seg in enumerate(segments):
                lo, hi = max(seg.start_us, day), min(seg.end_us, day + DAY_US)
                if lo < hi:
                    # By usage_rows_occurred_idx (one day), filtered by recording; `+position`
                    # keeps the planner off the position index (everything up to as_of).
                    for cur, kind, terr, model, gross in db.execute(
                        "SELECT currency, kind, territory, pricing_model, SUM(gross_micros) "
                        "FROM usage_rows WHERE isrc = ? AND +position <= ? AND occurred_at_us >= ? "
                        "AND occurred_at_us < ? AND kind <> 'refund' GROUP BY currency, kind, territory, pricing_model",
                        [isrc, as_of, lo, hi],
                    ):
                        keys.add((cur, kind, terr, model), day, int(gross), index)
        rows = keys.day_parts(isrc, from_day)
        self._bases[month] = _Base(from_day, segments, keys.cumulative_before)
        return rows + self._refund_parts(db, h, month, from_day, as_of)

    def _refund_parts(self, db: ViewDB, h: RightsHistory, month: Month, from_day: int, as_of: int) -> list[Any]:
        """Day parts of the month's refunds, each keyed by the sale it reverses (ledger.royalties.keys)."""
        isrc, start = month
        end = month_bounds(start)[1]
        by_key: dict[AllocationKey, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        for (_, cur, terr, kind, model, sale_at, day), gross in self._refunds_of(db, isrc).items():
            if start <= day < end:
                key = refund_key(
                    h,
                    as_of,
                    currency=cur,
                    isrc=isrc,
                    sale_kind=kind,
                    sale_model=model,
                    territory=terr,
                    sale_at_us=sale_at,
                )
                by_key[key][day] += gross
        parts: dict[tuple[int, str, str, str, str], int] = defaultdict(int)
        for key, days in by_key.items():
            cumulative, before = 0, dict[str, int]()
            for day in sorted(days):
                cumulative += days[day]
                now = allocate_accounts(key, cumulative)
                if day >= from_day:
                    for account in now.keys() | before.keys():
                        parts[(day, account, key.currency, key.line_kind, key.territory)] += now.get(
                            account, 0
                        ) - before.get(account, 0)
                before = now
        return [(isrc, *k, amount) for k, amount in sorted(parts.items()) if amount]


@dataclass(frozen=True)
class _Base:
    """Cumulative gross per allocation key of the days before `upto`, under `segments`."""

    upto: int
    segments: list[Segment]
    cumulative: dict[Any, int]


class _KeyedGross:
    """Gross by allocation key and day for one recording and period."""

    def __init__(self, isrc: str, segments: list[Segment]) -> None:
        self.isrc = isrc
        self.segments = segments
        self.starts = [s.start_us for s in segments]
        self.gross: dict[AllocationKey, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self._contexts: dict[tuple[int, str, str, str, int], AllocationContext] = {}
        self.history: RightsHistory | None = None
        self.as_of = 0
        self.cumulative: dict[Any, int] = {}  # per key: gross of the days before the first added
        self.cumulative_before: dict[Any, int] = {}  # per key: gross of the days before from_day

    def segment_at(self, at_us: int) -> int:
        return max(0, bisect_right(self.starts, at_us) - 1)

    def add(self, cell: Cell, day: int, gross: int, segment: int) -> None:
        currency, kind, territory, model = cell
        memo = (segment, kind, model, territory, day if "@" in kind else 0)  # withholding: by the line's day
        ctx = self._contexts.get(memo)
        if ctx is None:
            if ":" in self.isrc:  # an imported report line nothing matches (reports_earnings)
                ctx = unmatched_context()
            elif "@" in kind:  # a report line's kind is RIGHT@SOURCE: its pie rule is RIGHT:SOURCE
                ctx = self.segments[segment].context.for_usage(kind.partition("@")[0], model, territory)
                if self.history is not None:
                    ctx = with_withholding(ctx, self.history, territory, day, self.as_of)
            else:
                ctx = self.segments[segment].context.for_usage(kind, model, territory)
            self._contexts[memo] = ctx
        self.gross[AllocationKey(currency, self.isrc, kind, territory, ctx)][day] += gross

    def day_parts(self, isrc: str, from_day: int) -> list[tuple[Any, ...]]:
        """Rows for days ≥ from_day: LR(cumulative to d) − LR(cumulative to d−1), per key."""
        parts: dict[tuple[int, str, str, str, str], int] = defaultdict(int)
        for key in self.gross.keys() | self.cumulative.keys():
            days = self.gross.get(key, {})
            cumulative, before = self.cumulative.get(key, 0), None
            for day in sorted(days):
                if day < from_day:
                    cumulative += days[day]
                    continue
                if before is None:
                    self.cumulative_before[key] = cumulative
                    before = allocate_accounts(key, cumulative) if cumulative else {}
                cumulative += days[day]
                now = allocate_accounts(key, cumulative) if cumulative else {}
                for account in now.keys() | before.keys():
                    parts[(day, account, key.currency, key.kind, key.territory)] += now.get(account, 0) - before.get(
                        account, 0
                    )
                before = now
            if before is None:
                self.cumulative_before[key] = cumulative
        return [(isrc, *key, amount) for key, amount in sorted(parts.items()) if amount]


def _facts(h: RightsHistory) -> dict[tuple[str, str], Any]:
    """A fingerprint of every rights fact by subject, from the history's public fields only."""
    facts: dict[tuple[str, str], Any] = {("pie", ""): (len(h.pie_versions), len(h.withholding))}
    for (right, subject), versions in h.versions.items():
        facts[(right, subject)] = len(versions)
    for (right, subject), disputes in h.disputes.items():
        facts[(right, subject)] = (facts.get((right, subject)), tuple((d.dispute_id, d.resolved_at) for d in disputes))
    for isrc, links in h.work_links.items():
        facts[("isrc", isrc)] = (len(links), len(h.availability.get(isrc, ())))
    for isrc, changes in h.availability.items():
        facts[("isrc", isrc)] = (len(h.work_links.get(isrc, ())), len(changes))
    return facts
