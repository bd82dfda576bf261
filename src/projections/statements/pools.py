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
from concurrent.futures import ThreadPoolExecutor
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
from ledger.usage.positions import position_params, rows_between
from ledger.usage.store import sqlite_listener_hex
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

# The subscribers of the month with a positive net, each given a compact number (`sid`, in no
# particular order: it only groups, it never breaks a tie), so the heavy grouping and sorting
# below work on integers, not on 64-hex-digit HMACs.
_SUBS = (
    "subs AS MATERIALIZED (SELECT s, a, ROW_NUMBER() OVER () AS sid FROM ("
    "SELECT {funder} AS s, CAST(SUM(amount_micros) AS BIGINT) AS a FROM pool_contributions "
    "WHERE pool_key = {p} AND currency = {p} AND target IS NULL AND funder_hash IS NOT NULL "
    "AND position <= {p} AND occurred_at_us >= {p} AND occurred_at_us < {p}{half} "
    "GROUP BY funder_hash HAVING SUM(amount_micros) > 0) AS nets)"
)
# Listener hashes: usage_rows holds them as bytes (migrations 0040 and 0045), the other tables as
# hex text. On PostgreSQL the hex is decoded to join them (`usage_match` is the stored bytes); on
# SQLite (3.40 has no unhex) usage's are shown as hex to join (read from usage_listeners by the row's
# listener_id, migration 0050). `usage_hash` shows them as hex.
LISTENER_SQL = {
    "sqlite": {
        "funder": "funder_hash",
        "gift_hash": "listener_hash",
        "usage_hash": sqlite_listener_hex("u."),
        "usage_match": sqlite_listener_hex("u."),
    },
    "postgres": {
        "funder": "decode(funder_hash, 'hex')",
        "gift_hash": "decode(listener_hash, 'hex')",
        "usage_hash": "encode(u.listener_hash, 'hex')",
        "usage_match": "u.listener_hash",
    },
}
# Each subscriber's counted plays by recording.
_PLAYS = (
    "plays AS MATERIALIZED (SELECT subs.sid AS sid, u.isrc AS r, COUNT(*) AS n "
    "FROM usage_rows u JOIN subs ON subs.s = {usage_match} "
    "WHERE u.kind = 'stream' AND {counted} AND u.position <= {p} AND u.occurred_at_us >= {p} "
    "AND u.occurred_at_us < {p} GROUP BY subs.sid, u.isrc)"
)
# The eligible recordings: counted plays of the pool (its subscribers', or everyone's), at least
# min_plays; with the number of subscribers who played each.
_REC_CONTRIBUTORS = (
    "rec AS MATERIALIZED (SELECT r, CAST(SUM(n) AS BIGINT) AS n, COUNT(*) AS listeners FROM plays "
    "GROUP BY r HAVING SUM(n) >= {p})"
)
_REC_ALL = (
    "everyone AS (SELECT isrc AS r, COUNT(*) AS n FROM usage_rows u WHERE u.kind = 'stream' AND {counted} "
    "AND u.position <= {p} AND u.occurred_at_us >= {p} AND u.occurred_at_us < {p} "
    "GROUP BY isrc HAVING COUNT(*) >= {p}), "
    "rec AS MATERIALIZED (SELECT e.r, e.n, COALESCE(l.listeners, 0) AS listeners FROM everyone e "
    "LEFT JOIN (SELECT r, COUNT(*) AS listeners FROM plays GROUP BY r) l ON l.r = e.r)"
)
# Each subscriber's net cut by the weights (LR over three parts; ties pro-rata, user-centric,
# equal share): floors, then the leftover (0, 1 or 2) to the parts whose remainder ranks first.
_PARTS = (
    "split AS (SELECT sid, a, a * {wpr} / 1000000 AS fpr, a * {wuc} / 1000000 AS fuc, a * {weq} / 1000000 AS feq, "
    "a * {wpr} % 1000000 AS rpr, a * {wuc} % 1000000 AS ruc, a * {weq} % 1000000 AS req FROM subs), "
    "parts AS MATERIALIZED (SELECT sid, a, "
    "fpr + CASE WHEN 1 + CASE WHEN ruc > rpr THEN 1 ELSE 0 END + CASE WHEN req > rpr THEN 1 ELSE 0 END "
    "<= a - fpr - fuc - feq THEN 1 ELSE 0 END AS pr, "
    "fuc + CASE WHEN 1 + CASE WHEN rpr >= ruc THEN 1 ELSE 0 END + CASE WHEN req > ruc THEN 1 ELSE 0 END "
    "<= a - fpr - fuc - feq THEN 1 ELSE 0 END AS uc FROM split)"
)
# Plays of eligible recordings only (all of them when every played recording is eligible).
_EPLAYS_FILTERED = "eplays AS (SELECT p.sid, p.r, p.n FROM plays p JOIN rec ON rec.r = p.r)"
_EPLAYS_ALL = "eplays AS (SELECT sid, r, n FROM plays)"
# A subscriber's user-centric part over its own plays: floor(uc·n/ns) each, the leftover one
# micro-unit each to the largest remainders, equal remainders to the ISRC that sorts first.
_CUT = (
    "withtot AS (SELECT e.sid, e.r, e.n, p.uc, CAST(SUM(e.n) OVER (PARTITION BY e.sid) AS BIGINT) AS ns "
    "FROM eplays e JOIN parts p ON p.sid = e.sid WHERE p.uc > 0), "
    "cut AS (SELECT sid, r, uc, (uc * n) / ns AS fl, (uc * n) % ns AS rem FROM withtot), "
    "ranked AS (SELECT r, fl, uc, ROW_NUMBER() OVER (PARTITION BY sid ORDER BY rem DESC, r{collate}) AS rk, "
    "CAST(SUM(fl) OVER (PARTITION BY sid) AS BIGINT) AS sfl FROM cut), "
    "percut AS (SELECT r, SUM(fl + CASE WHEN rk <= uc - sfl THEN 1 ELSE 0 END) AS amount FROM ranked GROUP BY r)"
)
_NO_CUT = "percut AS (SELECT r, 0 AS amount FROM rec WHERE 1 = 0)"
# No user-centric part: only the subscribers' plays by recording are needed (no per-subscriber
# groups), and every subscriber's parts go to pro-rata and equal share.
_LEAN = (
    "WITH {subs}, rec AS (SELECT u.isrc AS r, COUNT(*) AS n, 0 AS listeners FROM usage_rows u "
    "JOIN subs ON subs.s = {usage_match} WHERE u.kind = 'stream' AND {counted} AND u.position <= {p} "
    "AND u.occurred_at_us >= {p} AND u.occurred_at_us < {p} GROUP BY u.isrc HAVING COUNT(*) >= {p}), {parts} "
    "SELECT 'R', rec.r, rec.n, 0, rec.listeners FROM rec "
    "UNION ALL SELECT 'T', NULL, COUNT(*), SUM(a), SUM(pr) FROM parts"
)
_SELECT = (
    "SELECT 'R', rec.r, rec.n, COALESCE(x.amount, 0), rec.listeners FROM rec "
    "LEFT JOIN percut x ON x.r = rec.r "
    "UNION ALL SELECT 'T', NULL, COUNT(*), SUM(a), SUM(pr) FROM parts "
    "UNION ALL SELECT 'F', NULL, COUNT(*), SUM(uc), 0 FROM parts "
    "WHERE NOT EXISTS (SELECT 1 FROM eplays WHERE eplays.sid = parts.sid)"
)


def query_store(
    config: StoreConfig, text: str, params: Sequence[Any], prelude: Sequence[tuple[str, Sequence[Any]]] = ()
) -> list[tuple[Any, ...]]:
    """One read on the store; on PostgreSQL `prelude` statements run first in its transaction."""
    if config.backend == "sqlite":
        assert config.sqlite_path is not None
        conn = sqlite3.connect(f"file:{config.sqlite_path}?mode=ro", uri=True, timeout=30)
        try:
            return conn.execute(
                text.format(p="?", counted="u.counted = 1", collate="", **LISTENER_SQL["sqlite"]), tuple(params)
            ).fetchall()
        finally:
            conn.close()
    with psycopg.connect(pg_conninfo(config)) as pg, pg.cursor() as cur:
        # The month's per-subscriber groups should stay in memory; compiling the statement (JIT)
        # costs seconds and saves nothing on a query run once.
        cur.execute("SET LOCAL work_mem = '1GB'")
        cur.execute("SET LOCAL jit = off")
        for statement, values in prelude:
            cur.execute(statement.replace("%", "%%").format(p="%s", **LISTENER_SQL["postgres"]), tuple(values))
        # ISRCs order by code point, as Python orders them (the model's tie-break).
        query = text.replace("%", "%%").format(
            p="%s", counted="u.counted", collate=' COLLATE "C"', **LISTENER_SQL["postgres"]
        )
        rows: list[tuple[Any, ...]] = cur.execute(query, tuple(params)).fetchall()
        return rows


# The common case — the subscribers' own plays, every played recording eligible (min_plays ≤ 1):
# one pass, no CTE between the grouping and the windows (so the groups come sorted by
# subscriber), and the recordings' plays and listeners summed with their money. Money of the
# subscribers who played nothing is Σ uc − Σ of each playing subscriber's uc counted once (on its
# first-ranked row).
_FAST = (
    "WITH {subs}, {parts}, "
    "withtot AS (SELECT g.sid, g.r, g.n, q.uc, CAST(SUM(g.n) OVER (PARTITION BY g.sid) AS BIGINT) AS ns FROM ("
    "SELECT subs.sid AS sid, u.isrc AS r, COUNT(*) AS n FROM usage_rows u JOIN subs ON subs.s = {usage_match} "
    "WHERE u.kind = 'stream' AND {counted} AND u.position <= {p} AND u.occurred_at_us >= {p} "
    "AND u.occurred_at_us < {p} GROUP BY subs.sid, u.isrc) AS g JOIN parts q ON q.sid = g.sid), "
    "cut AS (SELECT sid, r, n, uc, (uc * n) / ns AS fl, (uc * n) % ns AS rem FROM withtot), "
    "ranked AS (SELECT r, n, fl, uc, ROW_NUMBER() OVER (PARTITION BY sid ORDER BY rem DESC, r{collate}) AS rk, "
    "CAST(SUM(fl) OVER (PARTITION BY sid) AS BIGINT) AS sfl FROM cut) "
    "SELECT 'R', r, SUM(n), SUM(fl + CASE WHEN rk <= uc - sfl THEN 1 ELSE 0 END), COUNT(*), "
    "SUM(CASE WHEN rk = 1 THEN uc ELSE 0 END) FROM ranked GROUP BY r "
    "UNION ALL SELECT 'T', NULL, COUNT(*), SUM(a), SUM(pr), SUM(uc) FROM parts"
)


def user_centric_sql(rule: dict[str, Any]) -> str:
    """The one statement of the per-subscriber step (weights are integers from the rule)."""
    w = rule["weights"]
    parts = _PARTS.replace("{wpr}", str(int(w["pro-rata"]))).replace("{wuc}", str(int(w["user-centric"])))
    parts = parts.replace("{weq}", str(int(w["equal-share"])))
    if not w["user-centric"] and rule["plays"] == "contributors":
        return _LEAN.replace("{subs}", _SUBS).replace("{parts}", parts)
    if rule["plays"] == "contributors" and rule["min_plays"] <= 1:
        return _FAST.replace("{subs}", _SUBS).replace("{parts}", parts)
    rec = _REC_CONTRIBUTORS if rule["plays"] == "contributors" else _REC_ALL
    eplays = _EPLAYS_ALL if rule["min_plays"] <= 1 and rule["plays"] == "contributors" else _EPLAYS_FILTERED
    per = _CUT if w["user-centric"] else _NO_CUT
    return f"WITH {_SUBS}, {_PLAYS}, {rec}, {parts}, {eplays}, {per} {_SELECT}"


def _halves(config: StoreConfig, rule: dict[str, Any]) -> list[str]:
    """On PostgreSQL the subscribers are cut in two by the parity of their HMAC's hash, one
    connection each, so the server's two backends share the work; every subscriber is in exactly
    one half and the halves' sums add up. Only when a recording's eligibility does not depend on
    the other half's plays (min_plays ≤ 1, the subscribers' own plays)."""
    if rule["min_plays"] > 1 or rule["plays"] != "contributors":
        return [""]
    return [" AND (hashtext(funder_hash) & 1) = 0", " AND (hashtext(funder_hash) & 1) <> 0"]


def _postgres_half(config: StoreConfig, text: str, params: list[Any], half: str) -> list[tuple[Any, ...]]:
    """The statement with the subscribers in a temporary table, analysed, instead of a CTE: the
    planner then knows there are a million of them, not a few hundred, and builds the join's hash
    on them rather than on the month's usage (measured: the hash of 2 M usage rows took half
    the time of the pro-rata step)."""
    select = _SUBS.removeprefix("subs AS MATERIALIZED (").removesuffix(")").replace("{half}", half)
    prelude = [(f"CREATE TEMPORARY TABLE subs ON COMMIT DROP AS {select}", params[:5]), ("ANALYZE subs", [])]
    return query_store(config, text.replace(_SUBS + ", ", ""), params[5:], prelude)


def _sqlite_indexed_subs(config: StoreConfig, text: str, params: list[Any]) -> list[tuple[Any, ...]]:
    """On SQLite the subscribers go into an indexed temporary table instead of a CTE: joined to
    the month's usage through a CTE, SQLite scanned the usage once per subscriber (measured:
    21 s per statement for the demo's 2 000 subscribers and 100 000 plays); with the index it
    probes the subscribers once per play."""
    assert config.sqlite_path is not None
    select = _SUBS.removeprefix("subs AS MATERIALIZED (").removesuffix(")").replace("{half}", "")
    conn = sqlite3.connect(f"file:{config.sqlite_path}?mode=ro", uri=True, timeout=30)
    try:
        # The temporary database is the connection's own, writable on a read-only connection.
        conn.execute(
            f"CREATE TEMPORARY TABLE subs AS {select.format(p='?', **LISTENER_SQL['sqlite'])}", tuple(params[:5])
        )
        conn.execute("CREATE INDEX temp.subs_s ON subs (s)")
        query = text.replace(_SUBS + ", ", "").format(
            p="?", counted="u.counted = 1", collate="", **LISTENER_SQL["sqlite"]
        )
        rows: list[tuple[Any, ...]] = conn.execute(query, tuple(params[5:])).fetchall()
        return rows
    finally:
        conn.close()


def read_user_centric(
    config: StoreConfig, pool: str, currency: str, rule: dict[str, Any], period: Period, as_of: int
) -> tuple[UserCentric, dict[str, int]]:
    """The store's per-subscriber step: the same result as `user_centric_reference` on the rows."""
    start, end = period_bounds_us(period)
    window = (as_of, start, end)
    lean = not rule["weights"]["user-centric"] and rule["plays"] == "contributors"
    params: list[Any] = [pool, currency, *window, *window]
    text = user_centric_sql(rule)
    fast = text.startswith("WITH " + _SUBS + ", split AS")
    if not fast:
        params += [rule["min_plays"]] if rule["plays"] == "contributors" else [*window, rule["min_plays"]]
    if config.backend == "sqlite":
        found = [_sqlite_indexed_subs(config, text, params)]
    else:
        with ThreadPoolExecutor(max_workers=2) as pool_:
            found = list(pool_.map(lambda h: _postgres_half(config, text, params, h), _halves(config, rule)))
    out, firsts, uc_paid = UserCentric(), 0, 0
    plays: dict[str, int] = {}
    for tag, isrc, a, b, c, *more in (row for rows in found for row in rows):
        if tag == "R":
            r = str(isrc)
            plays[r] = plays.get(r, 0) + int(a)
            if int(b):
                out.per_recording[r] = out.per_recording.get(r, 0) + int(b)
            if int(c):
                out.listeners[r] = out.listeners.get(r, 0) + int(c)
            firsts += int(more[0]) if more else 0
        elif tag == "T":
            out.subscribers += int(a)
            out.paid += int(b or 0)
            out.pro_rata += int(c or 0)
            uc_paid += int(more[0] or 0) if more else 0
        else:
            out.no_plays += int(b or 0)
    if fast:
        out.no_plays = uc_paid - firsts
    if lean:  # a recording whose plays were cut in two halves counts once, with its total
        plays = {r: n for r, n in plays.items() if n >= rule["min_plays"]}
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


_CONTRIBUTED_BETWEEN = (
    "SELECT 1 FROM pool_contributions WHERE position > {p} AND position <= {p} "
    "AND occurred_at_us >= {p} AND occurred_at_us < {p} LIMIT 1"
)
_STREAMED_BETWEEN = (
    "SELECT 1 FROM usage_rows u WHERE {rows} "
    "AND u.occurred_at_us >= {{p}} AND u.occurred_at_us < {{p}} AND u.kind = 'stream' LIMIT 1"
)


def pools_unchanged(config: StoreConfig, history: RightsHistory, period: Period, a: int, b: int) -> bool:
    """Whether `pool_periods(…, period, a)` and `(…, period, b)` are the same: nothing they read
    was recorded between the two positions — no pool, rule or collective event, no contribution
    and no stream that occurred in the period (the units, counted plays, are compared too)."""
    lo, hi = min(a, b), max(a, b)
    facts = history.pools
    positions = [p.position for p in facts.pools.values()]
    positions += [r.position for rules in facts.rules.values() for r in rules]
    positions += [v[0] for versions in facts.collectives.values() for v in versions]
    if any(lo < position <= hi for position in positions):
        return False
    start, end = period_bounds_us(period)
    if query_store(config, _CONTRIBUTED_BETWEEN, (lo, hi, start, end)):
        return False
    streamed = _STREAMED_BETWEEN.format(rows=rows_between(config.backend, "u.", after=True, mark="{p}"))
    return not query_store(config, streamed, (*position_params(config.backend, lo, hi), start, end))


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
