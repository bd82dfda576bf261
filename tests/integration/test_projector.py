"""The batched projector on SQLite and PostgreSQL: batches, exactly-once, rebuild == live."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from ledger.application import RoyaltyLedger
from ledger.store.config import StoreConfig
from projections import queries
from projections.db import ViewDB
from projections.projector import Projector, lag
from projections.rebuild import rebuild
from tests.integration.projection_fixtures import (
    ISRCS,
    UPC,
    dump_views,
    record_some_plays,
    seed_catalogue,
)


@pytest.fixture
def app(store_config: StoreConfig) -> Iterator[RoyaltyLedger]:
    ledger = RoyaltyLedger(store_config)
    yield ledger
    ledger.close()


@pytest.fixture
def db(store_config: StoreConfig) -> Iterator[ViewDB]:
    view = ViewDB(store_config)
    yield view
    view.close()


def usage_totals(db: ViewDB) -> tuple[int, int, int]:
    ((rows, counted, gross),) = db.execute(
        "SELECT COUNT(*), SUM(CASE WHEN counted THEN 1 ELSE 0 END), SUM(gross_micros) FROM usage_rows"
    )
    return int(rows), int(counted), int(gross)


def stats_totals(db: ViewDB) -> tuple[int, int, int]:
    ((plays, counted, gross),) = db.execute(
        "SELECT SUM(plays), SUM(counted_plays), SUM(gross_micros) FROM stats_minute"
    )
    return int(plays), int(counted), int(gross)


def test_the_log_is_folded_in_batches_and_every_play_is_counted_once(app, db):
    seed_catalogue(app)
    record_some_plays(app, batches=4, per_batch=50)
    projector = Projector(app, db, batch_size=7)
    steps = 0
    while projector.step():
        steps += 1
    head = app.head_position()
    assert steps == -(-head // 7)  # ceil: one transaction per 7 notifications
    assert projector.positions() == {"catalogue": head, "stats": head, "earnings": head}
    assert stats_totals(db) == usage_totals(db)
    assert projector.lag().behind == 0


def test_running_again_and_after_more_plays_never_double_counts(app, db):
    seed_catalogue(app)
    record_some_plays(app, batches=2, per_batch=40)
    Projector(app, db).catch_up()
    first = dump_views(db)
    assert Projector(app, db).catch_up() == 0
    assert dump_views(db) == first
    record_some_plays(app, batches=2, per_batch=40, seed=2, first_id=1000)
    assert Projector(app, db).lag().behind == 2
    Projector(app, db, batch_size=1).catch_up()
    assert stats_totals(db) == usage_totals(db)
    assert stats_totals(db)[0] == 160


def test_a_second_projector_that_read_a_stale_position_folds_nothing(app, db, store_config):
    seed_catalogue(app)
    record_some_plays(app, batches=1, per_batch=30)
    slow = Projector(app, db)
    other_db = ViewDB(store_config)
    try:
        fast = Projector(app, other_db)
        fast.catch_up()
    finally:
        other_db.close()
    original_positions = slow.positions
    slow.positions = lambda lock=False: (  # type: ignore[method-assign]
        {k: 0 for k in slow.models} if not lock else original_positions(lock=True)
    )
    assert slow.step() == -1
    assert stats_totals(db) == usage_totals(db)


def test_the_catalogue_view_shows_releases_credits_splits_and_availability(app, db):
    seed_catalogue(app)
    app.take_down("recording", ISRCS[1], ["FR"], "label request", datetime(2026, 1, 20, tzinfo=UTC), "test")
    app.set_party_verification("aria", "verified", "documents checked", "test")
    Projector(app, db, models=["catalogue"]).catch_up()
    ((status, territories),) = db.execute("SELECT status, territories FROM cat_releases WHERE upc = ?", [UPC])
    assert (status, json.loads(territories)) == ("live", ["DE", "FR", "GB"])
    assert db.execute("SELECT isrc FROM cat_release_tracks WHERE upc = ? ORDER BY track_no", [UPC]) == [
        (ISRCS[0],),
        (ISRCS[1],),
    ]
    assert db.execute("SELECT party_key, role FROM cat_credits WHERE isrc = ?", [ISRCS[0]]) == [("aria", "main_artist")]
    assert db.execute("SELECT verification FROM cat_parties WHERE party_key = 'aria'") == [("verified",)]
    ((availability, audio),) = db.execute(
        "SELECT availability, audio_status FROM cat_recordings WHERE isrc = ?", [ISRCS[1]]
    )
    assert [c["action"] for c in json.loads(availability)] == ["takedown"]
    assert audio == "none"
    holders = db.execute(
        "SELECT party_key FROM cat_split_holders WHERE right_type='master' AND subject_key=? ORDER BY party_key",
        [ISRCS[0]],
    )
    assert holders == [("aria",), ("lbl",)]


def test_a_rebuilt_read_model_equals_the_live_one(app, db):
    seed_catalogue(app)
    record_some_plays(app, batches=3, per_batch=30)
    app.take_down("release", UPC, ["GB"], "rights lapsed", datetime(2026, 1, 25, tzinfo=UTC), "test")
    Projector(app, db, batch_size=3).catch_up()
    live = dump_views(db)
    assert rebuild(app, db=db, batch_size=1000) == {m: app.head_position() for m in live_models()}
    assert dump_views(db) == live
    if db.backend == "postgres":  # the swapped-in tables keep their storage parameters
        assert db.execute("SELECT reloptions FROM pg_class WHERE relname = 'earn_account_day'") == [
            (["fillfactor=70"],)
        ]
    record_some_plays(app, batches=1, per_batch=30, seed=3, first_id=500)
    rebuild(app, ["stats"], db=db)  # a second rebuild re-uses the scratch names
    Projector(app, db).catch_up()
    assert stats_totals(db) == usage_totals(db)


def live_models() -> list[str]:
    return ["catalogue", "stats", "earnings"]


def test_following_projector_folds_new_events_as_they_are_committed(app, db, store_config):
    seed_catalogue(app)
    follower_db = ViewDB(store_config)
    projector = Projector(app, follower_db)
    stop = threading.Event()
    thread = threading.Thread(target=projector.follow, args=(stop, 0.2))
    thread.start()
    try:
        record_some_plays(app, batches=2, per_batch=25)
        head = app.head_position()
        deadline = time.monotonic() + 20
        while lag(app, db).behind and time.monotonic() < deadline:  # read on its own connection
            time.sleep(0.05)
        assert set(lag(app, db).positions.values()) == {head}
    finally:
        stop.set()
        thread.join(timeout=10)
        follower_db.close()
    assert not thread.is_alive()


def test_queries_answer_from_the_views(app, db):
    seed_catalogue(app)
    app.set_rights_pie(
        {"*:*": {"platform": 300_000, "master": 500_000, "publishing": 200_000}},
        datetime(2025, 1, 1, tzinfo=UTC),
        "initial",
        "test",
    )
    app.set_split("master", ISRCS[0], {"aria": 1_000_000}, datetime(2026, 1, 16, tzinfo=UTC), "test", "back-dated")
    app.take_down("release", UPC, ["GB"], "rights lapsed", datetime(2026, 1, 25, tzinfo=UTC), "test")
    record_some_plays(app, batches=2, per_batch=60)
    Projector(app, db).catch_up()

    jan_10, jan_20 = datetime(2026, 1, 10, tzinfo=UTC), datetime(2026, 1, 20, tzinfo=UTC)
    assert queries.current_split(db, "master", ISRCS[0], jan_10)["shares_ppm"] == {"aria": 600_000, "lbl": 400_000}
    assert queries.current_split(db, "master", ISRCS[0], jan_20)["shares_ppm"] == {"aria": 1_000_000}
    assert queries.availability(db, ISRCS[0], "GB", jan_20) == {"available": True, "release": UPC}
    assert queries.availability(db, ISRCS[0], "GB", datetime(2026, 1, 26, tzinfo=UTC))["available"] is False
    assert queries.availability(db, ISRCS[0], "US", jan_20) == {
        "available": False,
        "reason": f"release {UPC} is not sold in US",
    }
    assert queries.availability(db, ISRCS[2], "DE", jan_20)["reason"] == "on no release"

    total = queries.earnings(db, "aria")["totals_micros"]["EUR"]
    for by in ("territory", "recording", "day", "kind"):
        assert sum(line["amount_micros"] for line in queries.earnings(db, "aria", by=by)["lines"]) == total
    assert queries.earnings(db, "aria", period="2026-02")["totals_micros"] == {}
    assert set(queries.party_catalogue(db, "lbl")) == set(ISRCS)  # master holder and release label
    top = queries.top(db, what="recordings", party="aria", period="2026-01", limit=2)["rows"]
    plays = queries.stats(db, top[0]["key"], by="month")["series"][0]["plays"]
    assert len(top) == 2 and top[0]["plays"] == plays >= top[1]["plays"]
    by_territory = queries.top(db, what="territories", period="2026-01")["rows"]
    assert sum(r["plays"] for r in by_territory) == 120
