"""Grouped usage for a period as known at a position: the store pre-sums, DuckDB cuts by segment.

The store sums usage_rows (position ≤ as_of, occurred_at in the period) by recording, kind,
pricing model, territory and currency — keeping occurred_at only for recordings whose rights
change inside the period, and cutting the rest at global boundaries (rights-pie versions).
The result (one row per group, a few per recording) comes back as rows, then Arrow,
and DuckDB ASOF-joins it to the rights timeline's segment starts and groups by allocation key.
"""

from __future__ import annotations

import sqlite3
from bisect import bisect_right
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import repeat
from typing import Any, NamedTuple, Protocol

import duckdb
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
from psycopg import sql

from ledger.domain.period import Period
from ledger.royalties import KeyTotals, RightsHistory, UsageKey, period_bounds_us, timelines_for
from ledger.royalties.timeline import Segment
from ledger.store.config import StoreConfig
from ledger.store.migrate import pg_conninfo
from ledger.usage.keys import sale_of_refund

GROUP_SCHEMA = pa.schema(
    [
        ("isrc", pa.string()),
        ("kind", pa.string()),
        ("pricing_model", pa.string()),
        ("territory", pa.string()),
        ("currency", pa.string()),
        ("at_us", pa.int64()),
        ("units", pa.int64()),
        ("gross_micros", pa.int64()),
    ]
)


def _fine_isrcs(history: RightsHistory, start: int, end: int, as_of: int) -> list[str]:
    """Recordings with a rights change strictly inside (start, end): they keep occurred_at."""
    found: set[str] = set()
    for (right, subject), versions in history.versions.items():
        if any(start < v.effective_from_us < end and v.activated_at <= as_of for v in versions):
            found.add(subject) if right == "master" else found.update(_isrcs_of_work(history, subject, as_of))
    for (right, subject), disputes in history.disputes.items():
        if any(start < d.effective_from_us < end and d.opened_at <= as_of for d in disputes):
            found.add(subject) if right == "master" else found.update(_isrcs_of_work(history, subject, as_of))
    for isrc, changes in history.availability.items():
        if any(start < c[1] < end and c[0] <= as_of for c in changes):
            found.add(isrc)
    return sorted(found)


def _isrcs_of_work(history: RightsHistory, work: str, as_of: int) -> list[str]:
    return [isrc for isrc in history.work_links if history.work_of(isrc, as_of) == work]


def _global_cuts(history: RightsHistory, start: int, end: int, as_of: int) -> list[int]:
    return sorted({e for pos, _, e, _ in history.pie_versions if pos <= as_of and start < e < end})


def _at_expression(cuts: Sequence[int], start: int) -> str:
    """occurred_at bucketed at the global cuts (integers only, never user text)."""
    if not cuts:
        return str(int(start))
    arms = " ".join(
        f"WHEN occurred_at_us < {int(c)} THEN {int(prev)}" for prev, c in zip([start, *cuts[:-1]], cuts, strict=True)
    )
    return f"CASE {arms} ELSE {int(cuts[-1])} END"


# A month's usage grouped by recording, kind, pricing model, territory and currency (500 000
# groups at 10 M plays): the hash aggregate is most of the pre-sum, so it groups by nothing it
# need not — no occurred_at bucket when the period has one bucket (`{groups}`: 1–5), and no
# counted units (a statement never reads them).
_SELECT = (
    "SELECT isrc, kind, pricing_model, territory, currency, {at} AS at_us, count(*) AS units, "
    "CAST(sum(gross_micros) AS BIGINT) AS gross_micros "
    "FROM usage_rows WHERE {part}position <= {as_of} AND occurred_at_us >= {start} "
    "AND occurred_at_us < {end} AND kind <> 'refund' GROUP BY {groups}"
)


def _grouped(fine: list[str], bucket: str) -> tuple[bool, str]:
    """(whether at_us is one constant, the GROUP BY list): a constant bucket is not grouped by."""
    constant = not fine and bucket.lstrip("-").isdigit()
    return constant, "1, 2, 3, 4, 5" if constant else "1, 2, 3, 4, 5, 6"


def read_usage_groups(
    config: StoreConfig,
    history: RightsHistory,
    period: Period,
    as_of: int,
    coarse: Future[pa.Table] | None = None,
) -> pa.Table:
    """The store's pre-summed usage for the period as known at `as_of`, as an Arrow table.

    `coarse` is the same pre-sum started before the rights history was known (`prefetch_usage`):
    one bucket per group, no recording kept at its instants. It is used when the period has no
    global cut; its rows for the recordings whose rights change inside the period are replaced
    by theirs at their instants (read by the recording index). With a global cut it is dropped.
    """
    start, end = period_bounds_us(period)
    fine = _fine_isrcs(history, start, end, as_of)
    cuts = _global_cuts(history, start, end, as_of)
    if coarse is not None:
        table = coarse.result()
        if not cuts:
            if not fine:
                return table
            keep = pc.invert(pc.is_in(table.column("isrc"), value_set=pa.array(fine, pa.string())))
            own = _read(config, fine, str(int(start)), start, end, as_of, only=fine)
            return pa.concat_tables([table.filter(keep), own])
    return _read(config, fine, _at_expression(cuts, start), start, end, as_of, halves=len(history.work_links) >= 2)


def _read(
    config: StoreConfig,
    fine: list[str],
    bucket: str,
    start: int,
    end: int,
    as_of: int,
    *,
    halves: bool = False,
    only: list[str] | None = None,
) -> pa.Table:
    if config.backend == "sqlite":
        return _read_sqlite(config, fine, bucket, start, end, as_of, only)
    return _read_postgres(config, fine, bucket, start, end, as_of, halves, only)


_PREFETCH = ThreadPoolExecutor(max_workers=2, thread_name_prefix="usage-prefetch")


def prefetch_usage(config: StoreConfig, period: Period, as_of: int) -> Future[pa.Table]:
    """Start the period's pre-sum as known at `as_of` with no cut (see `read_usage_groups`), so the
    store sums while the caller reads the rights history."""
    start, end = period_bounds_us(period)
    return _PREFETCH.submit(_read, config, [], str(int(start)), start, end, as_of, halves=True)


def _read_sqlite(
    config: StoreConfig, fine: list[str], bucket: str, start: int, end: int, as_of: int, only: list[str] | None = None
) -> pa.Table:
    import json

    constant, groups = _grouped(fine, bucket)
    at = f"CAST({bucket} AS INTEGER)"
    params: tuple[object, ...] = ()
    if not constant:
        at = f"CASE WHEN isrc IN (SELECT value FROM json_each(?)) THEN occurred_at_us ELSE {bucket} END"
        params = (json.dumps(fine),)
    part = "" if only is None else "isrc IN (SELECT value FROM json_each(?)) AND "
    query = _SELECT.format(at=at, part=part, as_of="?", start="?", end="?", groups=groups)
    assert config.sqlite_path is not None
    conn = sqlite3.connect(f"file:{config.sqlite_path}?mode=ro", uri=True, timeout=30)
    try:
        params = (*params, *(() if only is None else (json.dumps(only),)), as_of, start, end)
        rows = conn.execute(query, params).fetchall()
    finally:
        conn.close()
    return _rows_to_table(rows)


def _read_postgres(
    config: StoreConfig,
    fine: list[str],
    bucket: str,
    start: int,
    end: int,
    as_of: int,
    halves: bool = False,
    only: list[str] | None = None,
) -> pa.Table:
    """The pre-sum on two connections at once, one per half of the recordings (by the parity of
    the ISRC's hash).

    The halves are complements of one predicate, so every row is summed exactly once and no
    group is split between them; the server's two backends use both cores while we wait.
    (Halves by block range — each backend reading half the table — cost more: each then holds
    every group, twice the hash table and twice the rows sent, for one scan saved.)
    `only` restricts the sum to these recordings (one connection, by the recording index).
    """
    constant, groups = _grouped(fine, bucket)
    at: sql.Composable = sql.SQL("CAST({} AS BIGINT)").format(sql.SQL(bucket))  # bucket is integers only
    if not constant:
        fine_list = sql.SQL(", ").join(sql.Literal(i) for i in fine) if fine else sql.SQL("NULL")
        at = sql.SQL("CASE WHEN isrc IN ({}) THEN occurred_at_us ELSE {} END").format(fine_list, sql.SQL(bucket))

    def query(part: sql.Composable) -> sql.Composed:
        return sql.SQL(_SELECT).format(
            at=at,
            part=part,
            as_of=sql.Literal(as_of),
            start=sql.Literal(start),
            end=sql.Literal(end),
            groups=sql.SQL(groups),
        )

    if only is not None:
        chosen = sql.SQL(", ").join(sql.Literal(i) for i in only) if only else sql.SQL("NULL")
        return _fetch_postgres(config, query(sql.SQL("isrc IN ({}) AND ").format(chosen)))
    if not halves:
        return _fetch_postgres(config, query(sql.SQL("")))
    parts = [query(sql.SQL("(hashtext(isrc) & 1) = 0 AND ")), query(sql.SQL("(hashtext(isrc) & 1) <> 0 AND "))]
    with ThreadPoolExecutor(max_workers=2) as pool:
        low, high = pool.map(lambda q: _fetch_postgres(config, q), parts)
    return pa.concat_tables([low, high])


def _fetch_postgres(config: StoreConfig, query: sql.Composed) -> pa.Table:
    """The query's rows as an Arrow table of GROUP_SCHEMA, read by ADBC: PostgreSQL's binary
    COPY decoded into Arrow in C (building 500 000 rows of Python tuples, then Arrow arrays from
    them, took 0.6 s of CPU per half at 10 M plays, on the close's critical path; ADBC 0.17 s)."""
    import adbc_driver_postgresql.dbapi as adbc

    text = query.as_string(None)  # literals only: integers and quoted ISRCs
    with adbc.connect(pg_conninfo(config)) as conn, conn.cursor() as cur:
        # The hash aggregate of a month's usage should stay in memory, not spill to disk.
        cur.execute("SET LOCAL work_mem = '256MB'")
        # A half's predicate on hashtext() is estimated at 0.5 % of the rows (the default for an
        # expression) where it is 50 %: the planner then sorts millions of rows to group them
        # (EXPLAIN ANALYZE at 10 M plays: the sort took 3.3 s of a 6.6 s half). Hashing is what
        # a month's few hundred thousand groups want; JIT compiling pays nothing back here.
        cur.execute("SET LOCAL enable_sort = off")
        cur.execute("SET LOCAL jit = off")
        cur.execute(text)
        table: pa.Table = cur.fetch_arrow_table()
    return table.rename_columns(GROUP_SCHEMA.names).cast(GROUP_SCHEMA)


def _rows_to_table(rows: Sequence[tuple[object, ...]]) -> pa.Table:
    columns: list[Sequence[object]] = list(zip(*rows, strict=True)) if rows else [[]] * len(GROUP_SCHEMA)
    return pa.table([pa.array(c, type=f.type) for c, f in zip(columns, GROUP_SCHEMA, strict=True)], schema=GROUP_SCHEMA)


def _segment_starts(timelines: dict[str, list[Segment]]) -> pa.Table:
    isrcs, starts = [], []
    for isrc, segments in timelines.items():
        for segment in segments:
            isrcs.append(isrc)
            starts.append(segment.start_us)
    return pa.table({"isrc": pa.array(isrcs, pa.string()), "start_us": pa.array(starts, pa.int64())})


# Below this many groups the join runs in Python: a DuckDB connection costs more than the work.
SMALL_GROUPS = 20_000


def _group_small(groups: pa.Table, timelines: dict[str, list[Segment]]) -> dict[UsageKey, KeyTotals]:
    """The same join and sums as `group_by_key`, by bisecting each recording's segment starts."""
    starts = {isrc: [s.start_us for s in segments] for isrc, segments in timelines.items()}
    out: dict[UsageKey, KeyTotals] = {}
    for isrc, kind, model, territory, currency, at_us, units, gross in zip(
        *(groups.column(name).to_pylist() for name in GROUP_SCHEMA.names), strict=True
    ):
        own = starts[isrc]
        key = UsageKey(isrc, own[max(0, bisect_right(own, at_us) - 1)], kind, model, territory, currency)
        found = out.get(key)
        if found is None:
            out[key] = KeyTotals(units, 0, gross)
        else:
            found.units += units
            found.gross_micros += gross
    return out


def group_by_key(groups: pa.Table, timelines: dict[str, list[Segment]]) -> dict[UsageKey, KeyTotals]:
    """DuckDB: ASOF-join each group to its recording's segment, then sum by allocation key."""
    if groups.num_rows <= SMALL_GROUPS:
        return _group_small(groups, timelines)
    segments = _segment_starts(timelines)
    con = duckdb.connect()
    try:
        con.register("usage_groups", groups)
        con.register("segments", segments)
        columns = con.execute(
            "SELECT g.isrc, s.start_us, g.kind, g.pricing_model, g.territory, g.currency, "
            "sum(g.units)::BIGINT AS units, "
            "sum(g.gross_micros)::BIGINT AS gross "
            "FROM usage_groups g ASOF JOIN segments s "
            "ON g.isrc = s.isrc AND g.at_us >= s.start_us "
            "GROUP BY ALL ORDER BY ALL"
        ).fetchnumpy()
    finally:
        con.close()
    # Column-wise to Python (no per-row tuple unpacking), keys and totals built positionally.
    isrc, seg, kind, model, territory, currency, units, gross = (c.tolist() for c in columns.values())
    return dict(
        zip(
            map(UsageKey, isrc, seg, kind, model, territory, currency),
            map(KeyTotals, units, repeat(0), gross),
            strict=True,
        )
    )


class UsageReader(Protocol):
    """Where a statement engine reads a period's pre-summed usage: the store (the default,
    `StoreUsage`) or an engine over the usage archived as Parquet (`spark_engine.SparkUsage`).
    Every reader returns the same sums, so statement hashes never depend on which one ran."""

    def groups(
        self, history: RightsHistory, period: Period, as_of: int, coarse: Future[pa.Table] | None
    ) -> pa.Table: ...

    def refunds(self, period: Period, as_of: int) -> list[RefundGroup]: ...


class StoreUsage:
    """The pre-sums run by the store (SQLite or PostgreSQL) itself."""

    def __init__(self, config: StoreConfig) -> None:
        self.config = config

    def groups(self, history: RightsHistory, period: Period, as_of: int, coarse: Future[pa.Table] | None) -> pa.Table:
        return read_usage_groups(self.config, history, period, as_of, coarse)

    def refunds(self, period: Period, as_of: int) -> list[RefundGroup]:
        return refund_groups(self.config, period, as_of)


def usage_keys(
    config: StoreConfig,
    history: RightsHistory,
    period: Period,
    as_of: int,
    coarse: Future[pa.Table] | None = None,
    reader: UsageReader | None = None,
) -> tuple[dict[UsageKey, KeyTotals], dict[str, list[Segment]]]:
    """The period's allocation keys with their cumulative totals, and the timelines used."""
    groups = (reader or StoreUsage(config)).groups(history, period, as_of, coarse)
    isrcs = groups.column("isrc").unique().to_pylist()
    timelines = timelines_for(history, isrcs, period, as_of)
    if groups.num_rows != 0 and len(groups) != 0:
        return group_by_key(groups, timelines), timelines
    return {}, timelines


# Refunds occurred in the period, with what decides their key: the sale's recording, kind,
# pricing model, territory and instant (by the sale line a refund line reverses; a refund whose
# sale is not stored — only possible for rows written around ingestion — keys as its own sale).
# Refunds are few and on a partial index (usage_rows_refund_of_idx).
_REFUNDS = (
    "SELECT COALESCE(s.isrc, r.isrc), COALESCE(s.kind, r.kind), COALESCE(s.pricing_model, r.pricing_model), "
    "COALESCE(s.territory, r.territory), r.currency, COALESCE(s.occurred_at_us, r.occurred_at_us), "
    "count(*), CAST(sum(r.gross_micros) AS BIGINT) "
    "FROM usage_rows r {sale} "
    "WHERE r.kind = 'refund' AND r.position <= {p} AND r.occurred_at_us >= {p} AND r.occurred_at_us < {p} "
    "GROUP BY 1, 2, 3, 4, 5, 6"
)


def refund_groups(config: StoreConfig, period: Period, as_of: int) -> list[RefundGroup]:
    """The period's refunds (recorded ≤ as_of) summed by what decides their key."""
    start, end = period_bounds_us(period)
    rows = _query(config, _REFUNDS, (as_of, start, end))
    return [
        RefundGroup(str(i), str(k), str(m), str(t), str(c), int(at), int(n), int(g)) for i, k, m, t, c, at, n, g in rows
    ]


class RefundGroup(NamedTuple):
    isrc: str
    sale_kind: str
    sale_model: str
    territory: str
    currency: str
    sale_at_us: int
    units: int
    gross_micros: int


def _query(config: StoreConfig, query: str, params: tuple[int, ...]) -> list[tuple[Any, ...]]:
    if config.backend == "sqlite":
        assert config.sqlite_path is not None
        conn = sqlite3.connect(f"file:{config.sqlite_path}?mode=ro", uri=True, timeout=30)
        try:
            return conn.execute(query.format(p="?", sale=sale_of_refund("sqlite")), params).fetchall()
        finally:
            conn.close()
    with psycopg.connect(pg_conninfo(config)) as pg:
        return pg.execute(query.format(p="%s", sale=sale_of_refund("postgres")), params).fetchall()


def usage_overview(config: StoreConfig, as_of: int) -> tuple[dict[str, int], int | None, int | None]:
    """Σ gross per currency of usage recorded ≤ as_of, and the occurred_at range it spans."""
    query = (
        "SELECT currency, sum(gross_micros), min(occurred_at_us), max(occurred_at_us) "
        "FROM usage_rows WHERE position <= {p} GROUP BY currency"
    )
    if config.backend == "sqlite":
        assert config.sqlite_path is not None
        conn = sqlite3.connect(f"file:{config.sqlite_path}?mode=ro", uri=True, timeout=30)
        try:
            rows = conn.execute(query.format(p="?"), (as_of,)).fetchall()
        finally:
            conn.close()
    else:
        with psycopg.connect(pg_conninfo(config)) as pg:
            rows = pg.execute(query.format(p="%s"), (as_of,)).fetchall()
    gross = {str(cur): int(total) for cur, total, _, _ in rows}
    lows = [int(r[2]) for r in rows]
    highs = [int(r[3]) for r in rows]
    return gross, (min(lows) if lows else None), (max(highs) if highs else None)


def gross_between(config: StoreConfig, as_of: int, start_us: int, end_us: int) -> dict[str, int]:
    """Σ gross per currency recorded ≤ as_of that occurred in [start_us, end_us)."""
    query = (
        "SELECT currency, sum(gross_micros) FROM usage_rows WHERE position <= {p} "
        "AND occurred_at_us >= {p} AND occurred_at_us < {p} GROUP BY currency"
    )
    params = (as_of, start_us, end_us)
    if config.backend == "sqlite":
        assert config.sqlite_path is not None
        conn = sqlite3.connect(f"file:{config.sqlite_path}?mode=ro", uri=True, timeout=30)
        try:
            rows = conn.execute(query.format(p="?"), params).fetchall()
        finally:
            conn.close()
    else:
        with psycopg.connect(pg_conninfo(config)) as pg:
            rows = pg.execute(query.format(p="%s"), params).fetchall()
    return {str(cur): int(total) for cur, total in rows}
