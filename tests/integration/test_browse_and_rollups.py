"""Catalogue search with cursors, and stats/earnings rolled up by hour … year and grouped, on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from ledger.application import RoyaltyLedger
from ledger.store.config import StoreConfig
from projections import browse, queries, rollups
from projections.db import ViewDB
from projections.projector import Projector
from tests.integration.projection_fixtures import ISRCS, UPC, record_some_plays, seed_catalogue


@pytest.fixture
def db(store_config: StoreConfig) -> Iterator[ViewDB]:
    app = RoyaltyLedger(store_config)
    try:
        seed_catalogue(app)
        app.set_rights_pie(
            {"*:*": {"platform": 300_000, "master": 500_000, "publishing": 200_000}},
            datetime(2025, 1, 1, tzinfo=UTC),
            "initial",
            "test",
        )
        record_some_plays(app, batches=2, per_batch=200)
        view = ViewDB(store_config)
        Projector(app, view).catch_up()
    finally:
        app.close()
    yield view
    view.close()


def test_search_pages_through_recordings_with_a_cursor_that_never_repeats(db: ViewDB) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        page = browse.search(db, "recordings", browse.Filters(), cursor=cursor, limit=2)
        seen += [item["isrc"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(ISRCS)


def test_search_finds_by_credit_name_and_role_label_and_identifier(db: ViewDB) -> None:
    by_credit = browse.search(db, "recordings", browse.Filters(credit="aria lune", role="main_artist"))
    assert {i["isrc"] for i in by_credit["items"]} == set(ISRCS)
    assert by_credit["items"][0]["credits"][0] == {"party": "aria", "name": "Aria Lune", "role": "main_artist"}
    assert browse.search(db, "recordings", browse.Filters(role="producer"))["items"] == []
    by_label = browse.search(db, "releases", browse.Filters(label="night owl"))
    assert [r["upc"] for r in by_label["items"]] == [UPC]
    assert by_label["items"][0]["tracks"] == ISRCS[:2]
    by_id = browse.search(db, "recordings", browse.Filters(identifier=UPC))
    assert {i["isrc"] for i in by_id["items"]} == set(ISRCS[:2])
    works = browse.search(db, "works", browse.Filters(credit="aria", role="composer"))
    assert [w["work_key"] for w in works["items"]] == ["moth"]
    parties = browse.search(db, "parties", browse.Filters(role="main_artist"))
    assert [p["party_key"] for p in parties["items"]] == ["aria"]


def test_a_party_scope_sees_only_what_its_parties_are_part_of(db: ViewDB) -> None:
    assert browse.search(db, "recordings", browse.Filters(), scope=frozenset({"pub"}))["items"][0]["isrc"] == ISRCS[0]
    assert len(browse.search(db, "recordings", browse.Filters(), scope=frozenset({"pub"}))["items"]) == 1
    assert browse.search(db, "parties", browse.Filters(), scope=frozenset({"pub"}))["items"][0]["key"] == "pub"
    assert browse.search(db, "releases", browse.Filters(), scope=frozenset({"nobody"}))["items"] == []


def test_availability_filters_by_territory(db: ViewDB) -> None:
    at = datetime(2026, 2, 1, tzinfo=UTC)
    sold = browse.search(db, "releases", browse.Filters(available_in="DE"), at=at)
    assert [r["upc"] for r in sold["items"]] == [UPC]
    assert browse.search(db, "releases", browse.Filters(available_in="US"), at=at)["items"] == []


def test_bad_cursor_and_limits_are_clear_errors(db: ViewDB) -> None:
    with pytest.raises(ValueError, match="cursor"):
        browse.search(db, "recordings", browse.Filters(), cursor="not-a-cursor")
    with pytest.raises(ValueError, match="limit"):
        browse.search(db, "recordings", browse.Filters(), limit=0)


@pytest.mark.parametrize("by", ["minute", "hour", "day", "week", "month", "year"])
def test_stats_by_every_bucket_add_up_to_the_same_plays(db: ViewDB, by: str) -> None:
    found = rollups.stats(db, by=by)
    assert found["total_plays"] == 400 == sum(p["plays"] for p in found["series"])
    buckets = {p["bucket"] for p in found["series"]}
    expected = {"minute": 400, "hour": 24 * 31, "day": 31, "week": 5, "month": 1, "year": 1}[by]
    assert len(buckets) <= expected
    if by == "week":
        assert all(datetime.fromisoformat(b).weekday() == 0 for b in buckets)
    if by == "hour":
        assert len(buckets) > 31


@pytest.mark.parametrize("group", rollups.STATS_GROUPS)
def test_stats_grouped_and_ranked(db: ViewDB, group: str) -> None:
    found = rollups.stats(db, by="month", group=group, top=2)
    assert len(found["ranking"]) <= 2
    plays = [r["plays"] for r in found["ranking"]]
    assert plays == sorted(plays, reverse=True)
    if group == "source":
        assert found["ranking"][0]["key"] == "player" and found["ranking"][0]["plays"] == 400
    if group == "recording":
        assert found["ranking"][0]["label"].startswith("Track")


def test_stats_by_source_refuse_minutes(db: ViewDB) -> None:
    with pytest.raises(ValueError, match="per hour"):
        rollups.stats(db, by="minute", group="source")


def test_earnings_rolled_up_equal_the_plain_earnings(db: ViewDB) -> None:
    plain = queries.earnings(db, "aria")["totals_micros"]
    assert plain["EUR"] > 0
    for by in ("day", "week", "month", "year"):
        found = rollups.earnings(db, "aria", by=by)
        assert sum(line["amount_micros"] for line in found["lines"]) == plain["EUR"]
    for group in ("recording", "territory", "kind"):
        found = rollups.earnings(db, "aria", group=group)
        assert sum(sum(r["amount_micros"].values()) for r in found["ranking"]) == plain["EUR"]
    by_release = rollups.earnings(db, "aria", group="release")
    assert [r["key"] for r in by_release["ranking"]] == [UPC]
    assert by_release["totals_micros"] == plain
    with pytest.raises(ValueError, match="per day"):
        rollups.earnings(db, "aria", by="hour")
