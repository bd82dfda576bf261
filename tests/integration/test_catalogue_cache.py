"""The ingest's catalogue view is kept between calls and brought up to date from the log: it
always equals a full rebuild, and a call with no catalogue change reloads nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any

import pytest

from ledger.application import RoyaltyLedger
from ledger.store.config import StoreConfig
from ledger.usage.catalogue_cache import catalogue_view
from ledger.usage.catalogue_view import CatalogueView
from ledger.usage.ingest import ingest_rows
from tests.usage_helpers import ALBUM, ISRCS, SECRET, build_catalogue, clock, play, upc


@pytest.fixture
def app(store_config: StoreConfig) -> Iterator[RoyaltyLedger]:
    ledger = RoyaltyLedger(store_config, clock=clock)
    build_catalogue(ledger, with_single=False)
    yield ledger
    ledger.close()


def _fields(view: CatalogueView) -> dict[str, Any]:
    data = asdict(view)
    data.pop("_risky")
    for key in ("recording_takedowns", "release_takedowns"):
        data[key] = sorted(data[key])  # the aggregates themselves: compared by their codes
    return data


def _same_as_rebuild(app: RoyaltyLedger) -> CatalogueView:
    view = catalogue_view(app)
    assert _fields(view) == _fields(CatalogueView.load(app))
    return view


def test_the_kept_view_follows_every_catalogue_change(app: RoyaltyLedger) -> None:
    _same_as_rebuild(app)
    at = datetime(2026, 10, 1, tzinfo=UTC)
    changes = [
        lambda: app.upsert_recording("USRL12609001", "New", "Aria Lune", 180_000, "test"),
        lambda: app.deliver_release(upc(300), "EP", ["USRL12609001", ISRCS[3]], date(2026, 3, 1), "test"),
        lambda: app.take_down("recording", ISRCS[0], ["DE"], "claim", at, "test"),
        lambda: app.take_down("release", ALBUM, [], "label request", at, "test"),
        lambda: app.take_down("release", ALBUM, [], "resolved", at, "test", reinstate=True),
        lambda: app.upsert_recording(ISRCS[1], "Renamed", "Aria Lune", 200_000, "test"),
    ]
    for change in changes:
        change()
        _same_as_rebuild(app)


def test_a_call_with_no_catalogue_change_reloads_nothing(app: RoyaltyLedger, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _same_as_rebuild(app)
    ingest_rows(app, [play("p1")], actor="test", secret=SECRET)  # usage moves the head, not the catalogue
    loads: list[Any] = []
    original = app.repository.get
    monkeypatch.setattr(app.repository, "get", lambda *a, **k: loads.append(a) or original(*a, **k))
    assert catalogue_view(app) is first
    assert loads == []
    app.take_down("recording", ISRCS[2], [], "claim", datetime(2026, 10, 1, tzinfo=UTC), "test")
    loads.clear()
    assert catalogue_view(app) is not first
    assert len(loads) == 1  # only the recording that changed


def test_an_ingest_after_a_takedown_sees_it(app: RoyaltyLedger) -> None:
    ingest_rows(app, [play("before", isrc=ISRCS[2])], actor="test", secret=SECRET)
    app.take_down("recording", ISRCS[2], [], "claim", datetime(2026, 10, 1, tzinfo=UTC), "test")
    summary = ingest_rows(app, [play("after", isrc=ISRCS[2])], actor="test", secret=SECRET)
    assert summary.accepted == 0 and summary.quarantined == {"taken_down": 1}
