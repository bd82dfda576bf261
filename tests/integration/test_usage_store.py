"""Usage ingest against real stores: both backends, the same assertions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

from ledger.application import RoyaltyLedger
from ledger.domain.usage_batch import UsageBatch
from ledger.store.config import StoreConfig
from ledger.usage.quarantine import list_quarantine, retry_quarantine
from ledger.usage.store import UsageStore, UsageWrite, sqlite_listener_hex
from tests.usage_helpers import ALBUM, ISRCS, SECRET, build_catalogue, clock, ingest, play, sale, upc


@pytest.fixture
def app(store_config: StoreConfig) -> Iterator[RoyaltyLedger]:
    ledger = RoyaltyLedger(store_config, clock=clock)
    build_catalogue(ledger)
    yield ledger
    ledger.close()


def q(app: RoyaltyLedger, sql: str) -> list[tuple[Any, ...]]:
    return UsageStore(app).query(sql, sql)


def test_update_and_delete_are_rejected_by_the_database(app: RoyaltyLedger) -> None:
    ingest(app, [play(f"p{i}") for i in range(9)] + [play("bad", territory="ZZ")])
    statements = [
        "UPDATE usage_rows SET gross_micros = 0",
        "DELETE FROM usage_rows",
        "UPDATE usage_quarantine SET reason = 'x'",
        "DELETE FROM usage_quarantine",
        "DELETE FROM usage_ownership",
    ]
    for statement in statements:
        with pytest.raises(Exception, match="append-only"), app.recorder.datastore.transaction(commit=True) as c:
            c.execute(statement)
    assert q(app, "SELECT COUNT(*) FROM usage_rows")[0][0] == 9
    assert q(app, "SELECT COUNT(*) FROM usage_ownership")[0][0] == 1


def test_every_bad_row_is_quarantined_with_its_reason(app: RoyaltyLedger) -> None:
    app.take_down("recording", ISRCS[2], ["DE"], "rights dispute", datetime(2026, 10, 1, tzinfo=UTC), "test")
    ingest(app, [play("known", seconds=50)])
    rows = [
        play("unknown-isrc", isrc="USRL12609999"),
        sale("unknown-upc", "5.00", upc=upc(999)),
        play("taken-down", isrc=ISRCS[2], territory="DE"),
        play("future", at="2026-12-01T00:00:00Z"),
        play("before-release", isrc=ISRCS[3], at="2026-05-01T00:00:00Z"),
        play("territory", territory="ZZ"),
        sale("currency", "1.00", kind="tip", isrc=ISRCS[0], currency="ABC"),
        sale("negative", "-1.00", kind="download", isrc=ISRCS[0]),
        sale("absurd", "99999999.00", kind="download", isrc=ISRCS[0]),
        play("malformed", at="last tuesday"),
        play("known", seconds=51),  # a known id with a different payload
        play("fine-elsewhere", isrc=ISRCS[2], territory="FR"),
    ]
    summary = ingest(app, rows)
    reasons = {r.usage_id: r.reason for r in list_quarantine(app)}
    assert reasons == {
        "unknown-isrc": "unknown_isrc",
        "unknown-upc": "unknown_upc",
        "taken-down": "taken_down",
        "future": "future_occurred_at",
        "before-release": "before_release_date",
        "territory": "unknown_territory",
        "currency": "unknown_currency",
        "negative": "negative_amount",
        "absurd": "absurd_amount",
        "malformed": "malformed",
        "known": "different_payload",
    }
    assert summary.accepted == 1 and sum(summary.quarantined.values()) == 11
    again = ingest(app, rows)  # quarantined rows are not quarantined twice
    assert again.duplicates == len(rows) and not again.quarantined and again.batches == 0
    assert len(list_quarantine(app)) == 11


def test_a_row_for_a_missing_release_is_accepted_on_retry_once_it_is_delivered(
    app: RoyaltyLedger,
) -> None:
    late_isrc = "USRL12600077"
    ingest(app, [play("early", isrc=late_isrc, listener="fan")])
    assert [r.reason for r in list_quarantine(app)] == ["unknown_isrc"]
    app.upsert_recording(late_isrc, "Late", "Aria Lune", 100_000, "test")
    app.deliver_release(upc(300), "Late single", [late_isrc], date(2026, 9, 1), "test")
    summary = retry_quarantine(app, actor="test", secret=SECRET)
    assert (summary.accepted, summary.resolved) == (1, 1)
    assert list_quarantine(app) == []
    (resolved,) = list_quarantine(app, include_resolved=True)
    assert resolved.resolution == "accepted"
    line = q(app, "SELECT usage_id, isrc, gross_micros, play_number FROM usage_rows")
    assert line == [("early", late_isrc, 2_000, 1)]
    head = app.head_position()
    assert retry_quarantine(app, actor="test", secret=SECRET).accepted == 0
    assert app.head_position() == head
    assert ingest(app, [play("early", isrc=late_isrc, listener="fan")]).duplicates == 1


def test_reingesting_the_same_rows_writes_nothing(app: RoyaltyLedger) -> None:
    rows = [play(f"p{i}", listener=f"l{i % 3}") for i in range(40)]
    rows.append(sale("s1", "9.99", upc=ALBUM))
    first = ingest(app, rows, batch_size=7)
    head = app.head_position()
    count = q(app, "SELECT COUNT(*), SUM(gross_micros) FROM usage_rows")[0]
    second = ingest(app, rows, batch_size=11)
    assert (second.accepted, second.duplicates, second.batches) == (0, len(rows), 0)
    assert app.head_position() == head
    assert q(app, "SELECT COUNT(*), SUM(gross_micros) FROM usage_rows")[0] == count
    assert first.revenue["EUR"] == count[1]


def test_a_release_purchase_is_spread_over_its_tracks_and_a_refund_mirrors_it(
    app: RoyaltyLedger,
) -> None:
    ingest(app, [sale("s1", "10.00", upc=ALBUM)])
    ingest(
        app,
        [
            sale("r1", "10.00", kind="refund", refund_of="s1", upc=ALBUM),
            sale("r2", "1.00", kind="refund", refund_of="nope", isrc=ISRCS[0]),
        ],
    )
    lines = q(app, "SELECT usage_id, line_no, isrc, gross_micros FROM usage_rows ORDER BY usage_id, line_no")
    assert lines == [
        ("r1", 0, ISRCS[0], -3_333_334),
        ("r1", 1, ISRCS[1], -3_333_333),
        ("r1", 2, ISRCS[2], -3_333_333),
        ("s1", 0, ISRCS[0], 3_333_334),
        ("s1", 1, ISRCS[1], 3_333_333),
        ("s1", 2, ISRCS[2], 3_333_333),
    ]
    assert [r.reason for r in list_quarantine(app)] == ["refund_of_unknown_sale"]


def test_batch_events_state_their_rows_totals_and_positions(app: RoyaltyLedger) -> None:
    rows = [play(f"p{i}", listener=f"l{i % 4}", seconds=30 + i) for i in range(30)]
    rows += [sale("t1", "2.50", kind="tip", isrc=ISRCS[1])]
    summary = ingest(app, rows, batch_size=8)
    events = [app.decode(n) for n in app.read_log(topics=app.topics_of(UsageBatch.Recorded))]
    assert [e.row_count for e in events] == [8, 8, 8, 7]
    for event, position in zip(events, summary.positions, strict=True):
        got = q(
            app,
            f"SELECT currency, SUM(gross_micros), COUNT(*) FROM usage_rows "
            f"WHERE position = {position} GROUP BY currency",
        )
        assert {c: s for c, s, _ in got} == event.totals
        assert sum(n for _, _, n in got) == event.line_count
    # Both keep the HMAC as 32 bytes (migrations 0040 and 0045; SQLite once per listener, 0050), shown as hex.
    raw = UsageStore(app).query(
        f"SELECT {sqlite_listener_hex()} FROM usage_rows", "SELECT encode(listener_hash, 'hex') FROM usage_rows"
    )
    assert all(len(h) == 64 and not h.startswith("l") for (h,) in raw)


def test_a_failing_side_write_leaves_no_event_and_no_rows(app: RoyaltyLedger, monkeypatch: pytest.MonkeyPatch) -> None:
    head = app.head_position()

    def explode_after(original: Any) -> Any:
        def write(self: UsageWrite, cursor: Any, positions: Any) -> None:
            original(self, cursor, positions)
            raise RuntimeError("disk on fire")

        return write

    monkeypatch.setattr(UsageWrite, "write_sqlite", explode_after(UsageWrite.write_sqlite))
    monkeypatch.setattr(UsageWrite, "write_postgres", explode_after(UsageWrite.write_postgres))
    with pytest.raises(RuntimeError, match="disk on fire"):
        ingest(app, [play(f"p{i}") for i in range(5)])
    assert app.head_position() == head
    assert q(app, "SELECT COUNT(*) FROM usage_rows")[0][0] == 0


def test_interleaved_ingest_runs_keep_play_numbers_dense(app: RoyaltyLedger) -> None:
    """Each run remembers its own plays; another run's batch in between must not be missed."""
    from ledger.usage.ingest import UsageIngest
    from ledger.usage.rows import normalise_dicts

    first, second = UsageIngest(app, "a", secret=SECRET), UsageIngest(app, "b", secret=SECRET)
    for n, run in enumerate([first, second, first, second, first]):
        rows = [play(f"r{n}-{k}", listener="fan", at=f"2026-10-0{n + 1}T10:0{k}:00Z") for k in range(3)]
        run.record(normalise_dicts(rows, "player"))
    numbers = q(app, "SELECT play_number, gross_micros FROM usage_rows ORDER BY play_number")
    assert [n for n, _ in numbers] == list(range(1, 16))
    assert [g for _, g in numbers] == [2**n * 1000 for n in range(1, 10)] + [0] * 6


def test_the_raw_listener_id_is_stored_nowhere_not_even_for_unparseable_lines(
    app: RoyaltyLedger, tmp_path: Any
) -> None:
    from ledger.usage.ingest import ingest_files

    csv_file = tmp_path / "plays.csv"
    csv_file.write_text(
        "play_id,occurred_at,isrc,listener_id,territory,seconds_played\n"
        f"c1,2026-10-05T10:00:00Z,{ISRCS[0]},listener-secret-1,DE,50\n"
        f"c2,2026-10-05T10:00:00Z,{ISRCS[0]},listener-secret-2,DE,50,EXTRA\n"
        f"c3,2026-10-05T10:00:00+02:00,{ISRCS[0]},listener-secret-3,DE,50\n"
    )
    ndjson_file = tmp_path / "plays.ndjson"
    ndjson_file.write_text('{"play_id": "n1", "listener_id": "listener-secret-4", broken\n')
    summary = ingest_files(app, [csv_file, ndjson_file], actor="test", secret=SECRET)
    assert (summary.accepted, summary.quarantined["malformed"]) == (1, 3)
    listeners = UsageStore(app).query(  # SQLite: each listener's HMAC once, in usage_listeners (0050)
        f"SELECT {sqlite_listener_hex()} FROM usage_rows", "SELECT listener_hash FROM usage_rows"
    )
    stored = listeners + q(app, "SELECT raw_row FROM usage_quarantine")
    assert len(stored) == 4
    if app.config.backend == "sqlite":
        everything = q(app, "SELECT * FROM usage_listeners") + q(app, "SELECT * FROM usage_rows")
        assert everything and not any("listener-secret" in str(value) for value in everything)
    assert not any("listener-secret" in str(value) for value in stored)
    assert all("listener_hash" in raw for (raw,) in stored[1:3])


def test_a_refund_that_fails_pricing_is_quarantined_with_its_reason_and_retryable(
    app: RoyaltyLedger,
) -> None:
    ingest(app, [sale("s1", "10.00", upc=ALBUM), sale("s2", "2.00", kind="download", isrc=ISRCS[0])])
    refunds = [
        sale("r-over", "10.01", kind="refund", refund_of="s1", upc=ALBUM),
        sale("r-currency", "1.00", kind="refund", refund_of="s2", isrc=ISRCS[0], currency="USD"),
        sale("r-early", "1.00", kind="refund", refund_of="s3", isrc=ISRCS[1]),
    ]
    summary = ingest(app, refunds)
    assert (summary.accepted, sum(summary.quarantined.values())) == (0, 3)
    reasons = {r.usage_id: r.reason for r in list_quarantine(app)}
    assert reasons == {"r-over": "absurd_amount", "r-currency": "malformed", "r-early": "refund_of_unknown_sale"}
    assert q(app, "SELECT COUNT(*) FROM usage_quarantine")[0][0] == 3
    assert q(app, "SELECT COUNT(*) FROM usage_rows WHERE kind = 'refund'")[0][0] == 0
    ingest(app, [sale("s3", "1.00", kind="download", isrc=ISRCS[1])])
    retried = retry_quarantine(app, actor="test", secret=SECRET)
    assert (retried.accepted, retried.resolved) == (1, 1)
    assert {r.usage_id for r in list_quarantine(app)} == {"r-over", "r-currency"}
    assert q(app, "SELECT usage_id, gross_micros FROM usage_rows WHERE kind = 'refund'") == [("r-early", -1_000_000)]


def test_the_refunds_of_a_sale_never_add_up_to_more_than_the_sale(app: RoyaltyLedger) -> None:
    ingest(app, [sale("s1", "10.00", upc=ALBUM), sale("s2", "5.00", kind="download", isrc=ISRCS[0])])
    ingest(app, [sale("r1", "6.00", kind="refund", refund_of="s1", upc=ALBUM)])
    ingest(app, [sale("r2", "4.01", kind="refund", refund_of="s1", upc=ALBUM)])  # a later batch
    ingest(app, [sale("r3", "4.00", kind="refund", refund_of="s1", upc=ALBUM)])  # exactly what is left
    ingest(  # within one batch, in row order
        app,
        [
            sale("r4", "3.00", kind="refund", refund_of="s2", isrc=ISRCS[0]),
            sale("r5", "3.00", kind="refund", refund_of="s2", isrc=ISRCS[0]),
            sale("r6", "2.00", kind="refund", refund_of="s2", isrc=ISRCS[0]),
        ],
    )
    reasons = {r.usage_id: (r.reason, r.detail) for r in list_quarantine(app)}
    assert set(reasons) == {"r2", "r5"}
    assert reasons["r2"] == (
        "absurd_amount",
        "refund of 4010000 micros exceeds the sale's 10000000 (after 6000000 already refunded)",
    )
    got = q(app, "SELECT refund_of, SUM(gross_micros) FROM usage_rows WHERE kind = 'refund' GROUP BY refund_of")
    assert sorted(got) == [("s1", -10_000_000), ("s2", -5_000_000)]


def test_a_refund_follows_its_sale_within_one_run_of_small_batches(app: RoyaltyLedger) -> None:
    """On PostgreSQL the next batch is prepared while the current one is written: a refund must
    still see the sale (and the refunds) of the batches before it."""
    rows = [
        sale("s1", "5.00", kind="download", isrc=ISRCS[0]),
        sale("r1", "4.00", kind="refund", refund_of="s1", isrc=ISRCS[0]),
        sale("r2", "1.00", kind="refund", refund_of="s1", isrc=ISRCS[0]),
        sale("r3", "0.01", kind="refund", refund_of="s1", isrc=ISRCS[0]),
    ]
    summary = ingest(app, rows + [play(f"p{i}") for i in range(4)], batch_size=1)
    assert summary.accepted == 7
    assert [(r.usage_id, r.reason) for r in list_quarantine(app)] == [("r3", "absurd_amount")]
    assert q(app, "SELECT SUM(gross_micros) FROM usage_rows WHERE kind IN ('download', 'refund')")[0][0] == 0


def test_only_each_batchs_last_play_of_a_pair_marks_the_count(app: RoyaltyLedger) -> None:
    """The play-numbering index holds one row per (listener, recording) and batch: the pair's
    highest number in that batch. Numbers stay dense across batches all the same."""
    rows = [play(f"p{i}", listener=f"fan{i % 2}", at=f"2026-10-{1 + i:02d}T10:00:00Z") for i in range(12)]
    rows.append(play("short", listener="fan0", seconds=10, at="2026-10-20T10:00:00Z"))
    ingest(app, rows, batch_size=5)
    got = UsageStore(app).query(
        "SELECT position, listener_id, play_number, pair_last FROM usage_rows WHERE counted ORDER BY 1, 3",
        "SELECT position, listener_hash, play_number, pair_last FROM usage_rows WHERE counted ORDER BY 1, 3",
    )
    by_batch: dict[tuple[Any, Any], list[tuple[Any, Any]]] = {}
    for position, listener, number, last in got:
        by_batch.setdefault((position, listener), []).append((number, bool(last)))
    for plays in by_batch.values():
        assert [last for _, last in plays] == [False] * (len(plays) - 1) + [True]
    per_listener: dict[Any, list[int]] = {}
    for _, listener, number, _ in got:
        per_listener.setdefault(listener, []).append(number)
    assert sorted(sorted(v) for v in per_listener.values()) == [list(range(1, 7))] * 2
    uncounted = q(app, "SELECT pair_last FROM usage_rows WHERE NOT counted")
    assert [bool(v) for (v,) in uncounted] == [False]


def test_a_refund_of_a_sale_earlier_in_the_same_batch_is_accepted(app: RoyaltyLedger) -> None:
    """One batch with a release purchase, its partial refunds (the second would exceed the sale)
    and a refund that comes before its own sale (refused: a refund follows its sale)."""
    rows = [
        sale("s1", "10.00", upc=ALBUM),
        sale("r1", "6.00", kind="refund", refund_of="s1", upc=ALBUM),
        sale("r2", "4.01", kind="refund", refund_of="s1", upc=ALBUM),
        sale("r-first", "1.00", kind="refund", refund_of="s2", isrc=ISRCS[0]),
        sale("s2", "2.00", kind="download", isrc=ISRCS[0]),
    ]
    summary = ingest(app, rows)
    assert summary.accepted == 3 and summary.quarantined == {"absurd_amount": 1, "refund_of_unknown_sale": 1}
    lines = q(app, "SELECT usage_id, isrc, gross_micros FROM usage_rows WHERE usage_id IN ('s1', 'r1') ORDER BY 1, 2")
    assert lines == [
        ("r1", ISRCS[0], -2_000_000),
        ("r1", ISRCS[1], -2_000_000),
        ("r1", ISRCS[2], -2_000_000),
        ("s1", ISRCS[0], 3_333_334),
        ("s1", ISRCS[1], 3_333_333),
        ("s1", ISRCS[2], 3_333_333),
    ]
    retried = retry_quarantine(app, actor="test", secret=SECRET)  # s2 is stored now
    assert retried.accepted == 1 and {r.usage_id for r in list_quarantine(app)} == {"r2"}
