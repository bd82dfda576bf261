"""Pool money on statements: each pool's period distributed by its rule version, as known at X.

The store does the per-subscriber work column-wise, in one SQL statement over the usage and
contribution tables (no row reaches Python): each subscriber's net payment, its cut by the rule's
weights, its user-centric part split over that subscriber's counted plays by largest remainder
(window functions; ties by ISRC), summed by recording. The rest (`ledger.pools.rules.distribute`)
runs on those sums. Recording money is then an allocation key like any revenue — usage kind
"pool", the pie rule "pool:<pool kind>", the rights in force at the period's last instant — and
its statement line names the pool, the rule version and method (`kind`), with the counted plays
as units; party, co-op fund and undistributed money are lines of right "pool".
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from ledger.domain.period import Period
from ledger.pools.facts import PoolFact, RuleFact
from ledger.pools.rules import COOP_FUND, PoolDistribution, PoolInputs, UserCentric, distribute, pool_account
from ledger.royalties import RightsHistory, period_bounds_us
from ledger.royalties.allocation import party_account
from ledger.royalties.keys import AllocationKey, allocate
from ledger.royalties.timeline import context_at
from ledger.store.config import StoreConfig
from ledger.store.migrate import pg_conninfo
from projections.statements.compute import LineAmounts, LineKey, PeriodResult, add_parts

PPM = 1_000_000
POOL_KIND = "pool"  # the usage kind a pool's recording money is allocated under
POOL_TERRITORY = "WW"
NO_RULE: dict[str, Any] = {
    "method": "none",
    "weights": {},
    "fallback": "pro-rata",
    "eligible": [],
    "min_plays": 0,
    "floor_micros": 0,
    "cap_micros": 0,
    "plays": "all",
}

_CONTRIBUTIONS = (
    "SELECT COALESCE(target, ''), CAST(SUM(amount_micros) AS BIGINT), COUNT(*) FROM pool_contributions "
    "WHERE pool_key = {p} AND currency = {p} AND position <= {p} AND occurred_at_us >= {p} AND occurred_at_us < {p} "
    "GROUP BY COALESCE(target, '')"
)

_SUBS = (
    "subs AS MATERIALIZED (SELECT funder_hash AS s, CAST(SUM(amount_micros) AS BIGINT) AS a FROM pool_contributions "
    "WHERE pool_key = {p} AND currency = {p} AND target IS NULL AND funder_hash IS NOT NULL "
    "AND position <= {p} AND occurred_at_us >= {p} AND occurred_at_us < {p} "
    "GROUP BY funder_hash HAVING SUM(amount_micros) > 0)"
)
_PLAYS = (
    "plays AS MATERIALIZED (SELECT u.listener_hash AS s, u.isrc AS r, COUNT(*) AS n "
    "FROM usage_rows u JOIN subs ON subs.s = u.listener_hash "
    "WHERE u.kind = 'stream' AND {counted} AND u.position <= {p} AND u.occurred_at_us >= {p} "
    "AND u.occurred_at_us < {p} GROUP BY u.listener_hash, u.isrc)"
)
_REC_CONTRIBUTORS = (
    "rec AS MATERIALIZED (SELECT r, CAST(SUM(n) AS BIGINT) AS n FROM plays GROUP BY r HAVING SUM(n) >= {p})"
)
_REC_ALL = (
    "rec AS MATERIALIZED (SELECT isrc AS r, COUNT(*) AS n FROM usage_rows u WHERE u.kind = 'stream' AND {counted} "
    "AND u.position <= {p} AND u.occurred_at_us >= {p} AND u.occurred_at_us < {p} GROUP BY isrc HAVING COUNT(*) >= {p})"
)
# Each subscriber's net cut by the weights (LR over three parts; ties pro-rata, user-centric,
# equal share): floors, then the leftover (0, 1 or 2) to the parts whose remainder ranks first.
_PARTS = (
    "eplays AS MATERIALIZED (SELECT p.s, p.r, p.n FROM plays p JOIN rec ON rec.r = p.r), "
    "split AS (SELECT s, a, a * {wpr} / 1000000 AS fpr, a * {wuc} / 1000000 AS fuc, a * {weq} / 1000000 AS feq, "
    "a * {wpr} % 1000000 AS rpr, a * {wuc} % 1000000 AS ruc, a * {weq} % 1000000 AS req FROM subs), "
    "parts AS MATERIALIZED (SELECT s, a, "
    "fpr + CASE WHEN 1 + CASE WHEN ruc > rpr THEN 1 ELSE 0 END + CASE WHEN req > rpr THEN 1 ELSE 0 END "
    "<= a - fpr - fuc - feq THEN 1 ELSE 0 END AS pr, "
    "fuc + CASE WHEN 1 + CASE WHEN rpr >= ruc THEN 1 ELSE 0 END + CASE WHEN req > ruc THEN 1 ELSE 0 END "
    "<= a - fpr - fuc - feq THEN 1 ELSE 0 END AS uc FROM split), "
    "stot AS MATERIALIZED (SELECT s, CAST(SUM(n) AS BIGINT) AS ns FROM eplays GROUP BY s)"
)
# A subscriber's user-centric part over its own plays: floor(uc·n/ns) each, the leftover one
# micro-unit each to the largest remainders, equal remainders to the ISRC that sorts first.
_CUT = (
    "cut AS (SELECT e.s, e.r, p.uc, (p.uc * e.n) / t.ns AS fl, (p.uc * e.n) % t.ns AS rem "
    "FROM eplays e JOIN parts p ON p.s = e.s JOIN stot t ON t.s = e.s), "
    "ranked AS (SELECT r, fl, uc, ROW_NUMBER() OVER (PARTITION BY s ORDER BY rem DESC, r) AS rk, "
    "CAST(SUM(fl) OVER (PARTITION BY s) AS BIGINT) AS sfl FROM cut), "
    "percut AS (SELECT r, SUM(fl + CASE WHEN rk <= uc - sfl THEN 1 ELSE 0 END) AS amount, COUNT(*) AS listeners "
    "FROM ranked GROUP BY r)"
)
_NO_CUT = "percut AS (SELECT r, 0 AS amount, COUNT(*) AS listeners FROM eplays GROUP BY r)"
_SELECT = (
    "SELECT 'R', rec.r, rec.n, COALESCE(x.amount, 0), COALESCE(x.listeners, 0) FROM rec "
    "LEFT JOIN percut x ON x.r = rec.r "
    "UNION ALL SELECT 'T', NULL, COUNT(*), SUM(a), SUM(pr) FROM parts "
    "UNION ALL SELECT 'F', NULL, COUNT(*), SUM(uc), 0 FROM parts "
    "WHERE NOT EXISTS (SELECT 1 FROM stot WHERE stot.s = parts.s)"
)


def query_store(config: StoreConfig, text: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    if config.backend == "sqlite":
        assert config.sqlite_path is not None
        conn = sqlite3.connect(f"file:{config.sqlite_path}?mode=ro", uri=True, timeout=30)
        try:
            return conn.execute(text.format(p="?", counted="u.counted = 1"), tuple(params)).fetchall()
        finally:
            conn.close()
    with psycopg.connect(pg_conninfo(config)) as pg, pg.cursor() as cur:
        cur.execute("SET LOCAL work_mem = '256MB'")
        rows: list[tuple[Any, ...]] = cur.execute(
            text.replace("%", "%%").format(p="%s", counted="u.counted"), tuple(params)
        ).fetchall()
        return rows


def user_centric_sql(rule: dict[str, Any]) -> str:
    """The one statement of the per-subscriber step (weights are integers from the rule)."""
    w = rule["weights"]
    rec = _REC_CONTRIBUTORS if rule["plays"] == "contributors" else _REC_ALL
    parts = _PARTS.replace("{wpr}", str(int(w["pro-rata"]))).replace("{wuc}", str(int(w["user-centric"])))
    parts = parts.replace("{weq}", str(int(w["equal-share"])))
    per = _CUT if w["user-centric"] else _NO_CUT
    return f"WITH {_SUBS}, {_PLAYS}, {rec}, {parts}, {per} {_SELECT}"


def read_user_centric(
    config: StoreConfig, pool: str, currency: str, rule: dict[str, Any], period: Period, as_of: int
) -> tuple[UserCentric, dict[str, int]]:
    """The store's per-subscriber step: the same result as `user_centric_reference` on the rows."""
    start, end = period_bounds_us(period)
    window = (as_of, start, end)
    params: list[Any] = [pool, currency, *window, *window]
    params += [rule["min_plays"]] if rule["plays"] == "contributors" else [*window, rule["min_plays"]]
    out, plays = UserCentric(), {}
    for tag, isrc, a, b, c in query_store(config, user_centric_sql(rule), params):
        if tag == "R":
            plays[str(isrc)] = int(a)
            if int(b):
                out.per_recording[str(isrc)] = int(b)
            if int(c):
                out.listeners[str(isrc)] = int(c)
        elif tag == "T":
            out.subscribers, out.paid, out.pro_rata = int(a), int(b or 0), int(c or 0)
        else:
            out.no_plays = int(b or 0)
    uc_total = sum(out.per_recording.values()) + out.no_plays
    out.equal = out.paid - out.pro_rata - uc_total
    return out, plays


def pool_inputs(
    config: StoreConfig, pool: PoolFact, rule: dict[str, Any], period: Period, as_of: int
) -> PoolInputs | None:
    """What the store summed for the pool's period; None when nothing was contributed."""
    start, end = period_bounds_us(period)
    rows = query_store(config, _CONTRIBUTIONS, (pool.key, pool.currency, as_of, start, end))
    if not rows:
        return None
    targeted = {str(t): int(a) for t, a, _ in rows if t}
    untargeted = sum(int(a) for t, a, _ in rows if not t)
    if rule is NO_RULE or not any(t == "" for t, _, _ in rows):
        return PoolInputs(pool.key, rule, untargeted, targeted, {}, UserCentric())
    uc, plays = read_user_centric(config, pool.key, pool.currency, rule, period, as_of)
    return PoolInputs(pool.key, rule, untargeted, targeted, plays, uc)


@dataclass
class PoolPeriod:
    """One pool's distribution for a period as known at a position, with what it was made of."""

    pool: PoolFact
    version: int | None
    method: str
    inputs: PoolInputs
    distribution: PoolDistribution

    @property
    def line_kind(self) -> str:
        """What a statement line names: pool, rule version and method (e.g. pool:subs/v2/user-centric)."""
        return f"pool:{self.pool.key}/v{self.version or 0}/{self.method}"


def pool_periods(
    config: StoreConfig,
    history: RightsHistory,
    period: Period,
    as_of: int,
    override: Callable[[PoolFact, RuleFact | None], RuleFact | None] | None = None,
) -> list[PoolPeriod]:
    """Every pool's distribution for `period` as known at `as_of` (`override`: the rule to use
    instead of the one in force, for `royalty pools compare`)."""
    out = []
    for pool in history.pools.pools_as_of(as_of):
        fact = history.pools.rule_for(pool.key, period, as_of)
        if override is not None:
            fact = override(pool, fact)
        rule = fact.rule if fact is not None else NO_RULE
        inputs = pool_inputs(config, pool, rule, period, as_of)
        if inputs is None:
            continue
        parties = set(rule["eligible"]) | set(inputs.targeted)
        members = {p: history.pools.members_of(p, period, as_of) for p in parties}
        if rule is NO_RULE:
            dist = PoolDistribution(undistributed={"no-rule": inputs.untargeted} if inputs.untargeted else {})
            for party, micros in sorted(inputs.targeted.items()):
                dist.parties[(party, "direct", "", PPM)] = micros
        else:
            dist = distribute(inputs, members)
        version = fact.version if fact is not None else None
        out.append(PoolPeriod(pool, version, rule["method"], inputs, dist))
    return out


def _account_line(
    result: PeriodResult, account: str, currency: str, kind: str, isrc: str, share_ppm: int, micros: int
) -> None:
    if not micros:
        return
    line = LineKey(currency, isrc, kind, POOL_TERRITORY, POOL_KIND, PPM, share_ppm, "")
    lines = result.lines.setdefault(account, {})
    found = lines.get(line)
    if found is None:
        lines[line] = LineAmounts(0, micros, micros)
    else:
        found.gross_micros += micros
        found.amount_micros += micros


def add_pool_lines(
    config: StoreConfig, history: RightsHistory, result: PeriodResult, periods: list[PoolPeriod] | None = None
) -> None:
    """Every pool's money of the period onto the period's statement lines (`periods`: already
    distributed, e.g. under another rule for a comparison)."""
    period, as_of = result.period, result.as_of
    _, end = period_bounds_us(period)
    for pp in pool_periods(config, history, period, as_of) if periods is None else periods:
        kind, currency, dist = pp.line_kind, pp.pool.currency, pp.distribution
        for isrc in sorted(dist.recordings):
            gross = dist.recordings[isrc]
            ctx = context_at(history, isrc, end - 1, as_of).for_usage(POOL_KIND, pp.pool.kind, POOL_TERRITORY)
            key = AllocationKey(currency, isrc, kind, POOL_TERRITORY, ctx)
            detailed = allocate(key, gross)
            add_parts(result, key, pp.inputs.plays.get(isrc, 0), gross, tuple(detailed), list(detailed.values()))
        for (party, part, via, ppm), micros in sorted(dist.parties.items()):
            # isrc carries the collective a member's share came through ("" for a party's own)
            _account_line(result, party_account(party), currency, f"{kind}/{part}", via, ppm, micros)
        for reason, micros in sorted(dist.coop_fund.items()):
            _account_line(result, COOP_FUND, currency, f"{kind}/{reason}", "", PPM, micros)
        for reason, micros in sorted(dist.undistributed.items()):
            _account_line(result, pool_account(pp.pool.key), currency, f"{kind}/{reason}", "", PPM, micros)
