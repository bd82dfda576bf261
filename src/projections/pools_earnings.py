"""Pool money in the live earnings read model (issue 17), exactly as statements distribute it.

A month's pool money is a function of the log at a position: the statement code
(`pool_periods` + `add_pool_lines`) distributes every pool of the month as known then — its
contributions, rule version, collectives and, for pro-rata and user-centric, the month's counted
plays — and cuts each recording's money through its rights pie and splits (the rights in force at
the month's last instant). So the live rows of a month are those lines as of the batch's last
position, whether the month is open or closed (a closed month's statement plus the adjustment
lines of later statements add up to the same function at the later position).

Each row (recording — or, for a party's own money, the collective it came through or "" —,
account, currency, line kind `pool:<key>/v<version>/<method>…`, territory "WW") is kept in
`earn_pool_month`, the month's pool rows as last written, in the batch's transaction. A batch
that can have changed a month's pool money rewrites it: the change against those rows is added to
`earn_account_day` (on the month's first day), `earn_party_total` and `earn_party_day`. So the
rows depend only on the log up to the batch's end: any batching gives the same rows, and a restart
or rollback loses nothing. A month is recomputed when the batch has pool events (pools, rules,
collectives: every month with contributions), contributions occurring in it, rights changes
(every month: only the pie and split step runs again when the distribution is cached), or streams
occurring in it while one of its pools' rules counts plays (pro-rata or user-centric weight).
A migration that folds the earnings again from position 0 must empty `earn_pool_month` with the
other earnings tables (the rows as last written are what each rewrite subtracts).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from ledger.domain.period import Period
from ledger.domain.pool import Collective, Pool, PoolContributionBatch
from ledger.royalties.history import RightsHistory
from ledger.store.config import StoreConfig
from projections.db import ViewDB
from projections.readmodel import Batch
from projections.statements.compute import PeriodResult
from projections.statements.pools import PoolPeriod, add_pool_lines, pool_periods

DAY_US = 86_400_000_000
POOL_KIND_PREFIX = "pool:"  # every pool line's kind starts so; usage and report kinds never do
_POOL_FACT_EVENTS = (Pool.Configured, Pool.RuleVersionRecorded, Collective.Formed, Collective.MembersSet)  # type: ignore[attr-defined]
Row = tuple[str, str, str, str, str]  # isrc, account, currency, kind, territory


def _topic(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


POOL_FACT_TOPICS = frozenset(_topic(c) for c in _POOL_FACT_EVENTS)
CONTRIBUTION_TOPIC = _topic(PoolContributionBatch.Recorded)  # type: ignore[attr-defined]


def month_of(at_us: int) -> int:
    """The start (epoch µs) of the calendar month holding `at_us`."""
    day = datetime.fromtimestamp(at_us // 1_000_000, tz=UTC)
    return int(datetime(day.year, day.month, 1, tzinfo=UTC).timestamp()) * 1_000_000


def _period(month_us: int) -> Period:
    return Period.containing(datetime.fromtimestamp(month_us // 1_000_000, tz=UTC))


def plays_matter(history: RightsHistory, month_us: int, as_of: int) -> bool:
    """Whether a play in the month can move its pool money: a pool's rule for the month gives a
    part by plays (pro-rata or user-centric weight; floors and caps come out of those parts)."""
    period = _period(month_us)
    for pool in history.pools.pools_as_of(as_of):
        fact = history.pools.rule_for(pool.key, period, as_of)
        if fact is not None and (fact.rule["weights"].get("pro-rata") or fact.rule["weights"].get("user-centric")):
            return True
    return False


def pool_rows(
    config: StoreConfig, history: RightsHistory, periods: list[PoolPeriod], month_us: int, as_of: int
) -> dict[Row, int]:
    """The month's pool lines as a statement at `as_of` has them, summed by live earnings row."""
    result = PeriodResult(_period(month_us), as_of)
    add_pool_lines(config, history, result, periods)
    rows: dict[Row, int] = defaultdict(int)
    for account, lines in result.lines.items():
        for key, amounts in lines.items():
            rows[(key.isrc, account, key.currency, key.kind, key.territory)] += amounts.amount_micros
    return {row: amount for row, amount in rows.items() if amount}


class PoolEarnings:
    """The pool part of the earnings fold; caches (dropped on rollback) only save work."""

    def __init__(self, config: StoreConfig, tables: dict[str, str]) -> None:
        self.config = config
        self.t = tables
        self._months: set[int] | None = None  # months with contributions, as of the folded position
        self._periods: dict[int, list[PoolPeriod]] = {}  # month → distribution as of the folded position

    def reset(self) -> None:
        self._months = None
        self._periods.clear()

    def fold(
        self, db: ViewDB, history: RightsHistory, batch: Batch, *, rights_changed: bool, stream_days: Iterable[int]
    ) -> None:
        """Rewrite the pool money of every month the batch can have changed (`history` is at batch.hi)."""
        topics = {n.topic for n in batch.notifications}
        if self._months is None:
            self._months = self._contribution_months(db, 0, batch.lo - 1)
        redistribute: set[int] = set()
        if CONTRIBUTION_TOPIC in topics:
            fresh = self._contribution_months(db, batch.lo, batch.hi)
            self._months |= fresh
            redistribute |= fresh
        if not self._months:
            return
        if topics & POOL_FACT_TOPICS:
            redistribute |= self._months
        streamed = {month_of(day) for day in stream_days} & self._months
        redistribute |= {m for m in streamed if plays_matter(history, m, batch.hi)}
        reallocate = set(self._months) if rights_changed else set()
        for month in sorted(redistribute | reallocate):
            if month in redistribute or month not in self._periods:
                self._periods[month] = pool_periods(self.config, history, _period(month), batch.hi)
            self._write(db, month, pool_rows(self.config, history, self._periods[month], month, batch.hi))

    def _contribution_months(self, db: ViewDB, lo: int, hi: int) -> set[int]:
        days = db.execute(
            "SELECT DISTINCT occurred_at_us - (occurred_at_us % ?) FROM pool_contributions "
            "WHERE position >= ? AND position <= ?",
            [DAY_US, lo, hi],
        )
        return {month_of(int(d)) for (d,) in days}

    def _write(self, db: ViewDB, month: int, after: dict[Row, int]) -> None:
        before = {
            (str(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4])): int(r[5])
            for r in db.execute(
                "SELECT isrc, account, currency, kind, territory, amount_micros "
                f"FROM {self.t['earn_pool_month']} WHERE month_us = ?",
                [month],
            )
        }
        changes = {row: after.get(row, 0) - before.get(row, 0) for row in before.keys() | after.keys()}
        changes = {row: change for row, change in sorted(changes.items()) if change}
        if not changes:
            return
        pool_month: list[tuple[Any, ...]] = []
        account_day: list[tuple[Any, ...]] = []
        party_total: dict[tuple[str, str, str, str], int] = defaultdict(int)
        party_day: dict[tuple[str, int, str], int] = defaultdict(int)
        for (isrc, account, currency, kind, territory), change in changes.items():
            pool_month.append((month, isrc, account, currency, kind, territory, change))
            account_day.append((isrc, month, account, currency, kind, territory, change))
            party_total[(account, currency, isrc, territory)] += change
            party_day[(account, month, currency)] += change
        pool_columns = ("month_us", "isrc", "account", "currency", "kind", "territory", "amount_micros")
        db.add_rows(self.t["earn_pool_month"], pool_columns, 6, pool_month)
        day_columns = ("isrc", "day_us", "account", "currency", "kind", "territory", "amount_micros")
        db.add_rows(self.t["earn_account_day"], day_columns, 6, account_day)
        total_columns = ("account", "currency", "isrc", "territory", "amount_micros")
        db.add_rows(self.t["earn_party_total"], total_columns, 4, [(*k, v) for k, v in party_total.items() if v])
        sum_columns = ("account", "day_us", "currency", "amount_micros")
        db.add_rows(self.t["earn_party_day"], sum_columns, 3, [(*k, v) for k, v in party_day.items() if v])
