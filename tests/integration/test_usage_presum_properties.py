"""The store's usage pre-sum (projections.statements.usage._read) equals summing the rows by hand.

Hypothesis writes plays straight into usage_rows — in and out of the period, before and after
the as-of position, refunds among them — and reads them back grouped by (recording, kind, pricing
model, territory, currency, occurred_at bucket), on SQLite and on PostgreSQL (where the pre-sum
runs as two halves read through ADBC, or as one query, or for chosen recordings only). The
reference groups every row written so far in Python: each group once, every unit and micro-unit
counted once. Nothing is mocked: the real stores run the real SQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.domain.period import Period
from ledger.royalties import period_bounds_us, to_us
from ledger.store.config import StoreConfig
from projections.statements import usage
from tests.accounting_fixtures import Play, insert_usage

PERIOD = Period(2026, 3)
START, END = period_bounds_us(PERIOD)
ISRCS = ("QZPRE2600001", "QZPRE2600002", "QZPRE2600003", "QZPRE2600004")
# Instants: around the period's edges and inside it (microseconds from its start).
OFFSETS = st.one_of(
    st.integers(-(10**9), -1), st.integers(0, END - START - 1), st.integers(END - START, END - START + 10**9)
)


def _plays(ids: count[int]) -> st.SearchStrategy[list[tuple[int, Play]]]:
    play = st.builds(
        lambda n, isrc, offset, gross, kind, model, territory, currency, late: (
            late,
            Play(
                f"p{n}",
                isrc,
                datetime(2026, 3, 1, tzinfo=UTC) + timedelta(microseconds=offset),
                gross,
                currency=currency,
                territory=territory,
                kind=kind,
                pricing_model=model,
            ),
        ),
        st.builds(lambda: next(ids)),
        st.sampled_from(ISRCS),
        OFFSETS,
        st.one_of(st.integers(-5, 5_000), st.integers(-(10**15), 10**15)),
        st.sampled_from(["stream", "download", "refund"]),
        st.sampled_from(["fixed_rate", "stream2own"]),
        st.sampled_from(["DE", "FR"]),
        st.sampled_from(["EUR", "USD"]),
        st.booleans(),
    )
    return st.lists(play, min_size=1, max_size=25)


def _expected(
    rows: list[tuple[int, Play]], as_of: int, fine: list[str], cuts: list[int], only: list[str] | None
) -> dict[tuple[object, ...], tuple[int, int]]:
    out: dict[tuple[object, ...], tuple[int, int]] = {}
    for position, p in rows:
        at = to_us(p.occurred_at)
        if position > as_of or not START <= at < END or p.kind == "refund" or (only is not None and p.isrc not in only):
            continue
        bucket = at if p.isrc in fine else max([START, *(c for c in cuts if c <= at)])
        key = (p.isrc, p.kind, p.pricing_model, p.territory, p.currency, bucket)
        units, gross = out.get(key, (0, 0))
        out[key] = (units + 1, gross + p.gross_micros)
    return out


def _summed(table: object) -> dict[tuple[object, ...], tuple[int, int]]:
    rows = table.to_pylist()  # type: ignore[attr-defined]
    keys = [(r["isrc"], r["kind"], r["pricing_model"], r["territory"], r["currency"], r["at_us"]) for r in rows]
    assert len(set(keys)) == len(keys), "a group came back twice (the halves must not overlap)"
    return {k: (r["units"], r["gross_micros"]) for k, r in zip(keys, rows, strict=True)}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_pre_sum_is_every_row_of_the_period_summed_once(store_config: StoreConfig, data: st.DataObject) -> None:
    store = str(store_config.sqlite_path or store_config.pg_dbname)
    state = _STATE.setdefault(store, {"rows": [], "ids": count(), "position": 10})
    position = state["position"] = state["position"] + 2
    batch = data.draw(_plays(state["ids"]))
    written = [(position + late, p) for late, p in batch]
    for late in (0, 1):
        plays = [p for at, p in written if at == position + late]
        if plays:
            insert_usage(store_config, position + late, plays)
    state["rows"] += written
    fine = data.draw(st.lists(st.sampled_from(ISRCS), unique=True, max_size=2))
    cuts = sorted(data.draw(st.sets(st.integers(START + 1, END - 1), max_size=2)))
    only = data.draw(st.one_of(st.none(), st.lists(st.sampled_from(ISRCS), unique=True, max_size=3)))
    halves = data.draw(st.booleans())
    as_of = position  # the late rows are recorded after it
    got = usage._read(
        store_config, sorted(fine), usage._at_expression(cuts, START), START, END, as_of, halves=halves, only=only
    )
    assert got.schema == usage.GROUP_SCHEMA
    assert _summed(got) == _expected(state["rows"], as_of, fine, cuts, only)


_STATE: dict[str, dict[str, Any]] = {}
