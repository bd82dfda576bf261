"""Hypothesis: stream2own pricing, idempotency and batch totals, whatever the batching."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.application import RoyaltyLedger
from ledger.domain.usage_batch import UsageBatch
from ledger.store.config import StoreConfig
from ledger.store.migrate import apply_migrations
from ledger.usage.ingest import ingest_rows
from ledger.usage.store import UsageStore, sqlite_listener_hex
from tests.usage_helpers import ALBUM, ISRCS, SECRET, build_catalogue, clock, play, sale

_example = itertools.count()


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RoyaltyLedger]:
    config = StoreConfig.from_url(str(Path(tmp_path_factory.mktemp("usage")) / "royalty.db"))
    apply_migrations(config)
    ledger = RoyaltyLedger(config, clock=clock)
    build_catalogue(ledger)
    yield ledger
    ledger.close()


plays = st.lists(
    st.tuples(st.integers(0, 2), st.integers(0, 1), st.sampled_from([10, 44, 45, 200]), st.integers(0, 2_000_000)),
    min_size=1,
    max_size=40,
)


def _rows(prefix: str, spec: list[tuple[int, int, int, int]]) -> list[dict[str, Any]]:
    return [
        play(
            f"{prefix}-{n}",
            listener=f"{prefix}-l{listener}",
            isrc=ISRCS[isrc],
            seconds=seconds,
            at=f"2026-10-{1 + minute // 100_000:02d}T00:{(minute // 1000) % 60:02d}:{(minute // 10) % 60:02d}Z",
        )
        for n, (listener, isrc, seconds, minute) in enumerate(spec)
    ]


def _ingest(app: RoyaltyLedger, rows: list[dict[str, Any]], batch_size: int) -> Any:
    return ingest_rows(app, rows, actor="prop", secret=SECRET, batch_size=batch_size)


def _lines(app: RoyaltyLedger, prefix: str) -> list[tuple[Any, ...]]:
    sql = (
        "SELECT {listener}, isrc, counted, gross_micros, play_number, position, pair_last "
        f"FROM usage_rows WHERE usage_id LIKE '{prefix}-%'"
    )
    # SQLite: the HMAC from usage_listeners by the row's id (migration 0050).
    return UsageStore(app).query(
        sql.format(listener=sqlite_listener_hex()), sql.format(listener="encode(listener_hash, 'hex')")
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=plays, files=st.integers(1, 4), batch_size=st.integers(1, 15), data=st.data())
def test_stream2own_pays_2_to_the_n_once_each_then_nothing_whatever_the_batching_and_file_order(
    app: RoyaltyLedger,
    spec: list[tuple[int, int, int, int]],
    files: int,
    batch_size: int,
    data: st.DataObject,
) -> None:
    prefix = f"s2o{next(_example)}"
    rows = data.draw(st.permutations(_rows(prefix, spec)))
    for f in range(files):
        _ingest(app, rows[f::files], batch_size)
    per_pair: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
    marked: dict[tuple[Any, ...], list[tuple[int, bool]]] = defaultdict(list)
    for listener, isrc, counted, gross, number, position, last in _lines(app, prefix):
        if counted:
            per_pair[(listener, isrc)].append((number, gross))
            marked[(position, listener, isrc)].append((number, bool(last)))
        else:
            assert (gross, number, bool(last)) == (0, None, False)
    for in_batch in marked.values():  # only each batch's highest number of a pair is marked
        in_batch.sort()
        assert [last for _, last in in_batch] == [False] * (len(in_batch) - 1) + [True]
    for got in per_pair.values():
        got.sort()
        assert [n for n, _ in got] == list(range(1, len(got) + 1))
        assert [g for _, g in got] == [2**n * 1000 if n <= 9 else 0 for n in range(1, len(got) + 1)]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    spec=plays,
    first=st.integers(1, 20),
    second=st.integers(1, 20),
    sales=st.lists(st.integers(1, 50_000_000), max_size=4),
)
def test_reingesting_is_a_no_op_and_batch_events_total_their_rows(
    app: RoyaltyLedger,
    spec: list[tuple[int, int, int, int]],
    first: int,
    second: int,
    sales: list[int],
) -> None:
    prefix = f"idem{next(_example)}"
    rows = _rows(prefix, spec) + [
        sale(f"{prefix}-sale{n}", f"{amount / 1_000_000:.6f}", upc=ALBUM) for n, amount in enumerate(sales)
    ]
    summary = _ingest(app, rows, first)
    head = app.head_position()
    again = _ingest(app, rows, second)
    assert (again.accepted, again.duplicates, again.batches) == (0, len(rows), 0)
    assert app.head_position() == head
    lines = _lines(app, prefix)
    by_position: dict[int, int] = defaultdict(int)
    for *_, gross, _, position, _ in lines:
        by_position[position] += gross
    events = {
        n.id: app.decode(n)
        for n in app.read_log(start=min(summary.positions), topics=app.topics_of(UsageBatch.Recorded))
    }
    assert set(by_position) == set(summary.positions)
    for position, total in by_position.items():
        assert events[position].totals == {"EUR": total}
    sale_lines = UsageStore(app).query(
        f"SELECT usage_id, SUM(gross_micros), MAX(gross_micros) - MIN(gross_micros) FROM usage_rows "
        f"WHERE usage_id LIKE '{prefix}-sale%' GROUP BY usage_id",
        f"SELECT usage_id, SUM(gross_micros), MAX(gross_micros) - MIN(gross_micros) FROM usage_rows "
        f"WHERE usage_id LIKE '{prefix}-sale%' GROUP BY usage_id",
    )
    for usage_id, total, spread_width in sale_lines:
        assert total == sales[int(usage_id.rsplit("sale", 1)[1])]
        assert spread_width <= 1  # equal shares, largest remainder
