"""Importing ERN and CSV deliveries: whole releases or nothing, idempotent, reviewed unless verified."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ledger.application import RoyaltyLedger
from ledger.domain.delivery_receipt import DeliveryReceipt
from ledger.domain.ids import recording_id
from ledger.domain.release import Release
from ledger.ingest.importer import import_paths
from ledger.review import review_queue, verify_sender
from ledger.store.config import StoreConfig

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ern"
NOW = datetime(2025, 9, 1, tzinfo=UTC)
GOOD = [
    "ern43_single.xml",
    "ern43_album.xml",
    "ern43_multi_artist.xml",
    "ern43_restricted.xml",
    "ern382_album.xml",
    "ern382_single_restricted.xml",
]


@pytest.fixture
def app(store_config: StoreConfig) -> Iterator[RoyaltyLedger]:
    ledger = RoyaltyLedger(store_config, clock=lambda: NOW)
    yield ledger
    ledger.close()


def _import(app: RoyaltyLedger, *names: str, **kwargs: object):  # type: ignore[no-untyped-def]
    return import_paths(app, [FIXTURES / n for n in names], "test", **kwargs)  # type: ignore[arg-type]


def _topics_since(app: RoyaltyLedger, position: int) -> list[str]:
    return [n.topic for n in app.read_log(position + 1)]


def test_every_fixture_release_is_imported_whole_with_its_credits_works_and_splits(app: RoyaltyLedger) -> None:
    summary = _import(app, *GOOD)
    assert summary.counts()["accepted"] == len(GOOD) and summary.ok
    comp = app.get_release("5012345678924")
    assert comp.release_type == "compilation" and comp.status == "in_review"
    first = app.get_recording(comp.track_isrcs[0])
    assert {"party": "oskar-lind", "role": "featured_artist"} in first.credits
    restricted = app.get_release("5012345678931")
    assert restricted.territories != ["WW"] and "WW" not in restricted.territories
    album = app.get_release("5012345678948")
    rec = app.get_recording(album.track_isrcs[0])
    assert rec.work_key == app.get_work(rec.work_key).iswc  # a work is keyed by its ISWC
    # The 4.3 album delivered this work first; the 3.8.2 album's different shares are only proposed.
    agreement = app.get_split("publishing", rec.work_key)
    in_force = agreement.version_in_force(NOW)
    assert in_force is not None and in_force["shares"] == {"harbour-songs": 500_000, "tom-avery": 500_000}
    proposed = agreement.versions[-1]
    assert proposed["status"] == "proposed"
    assert proposed["shares"] == {"ines-duarte": 600_000, "tom-avery": 400_000}
    master = app.get_split("master", rec.isrc).version_in_force(NOW)
    assert master is not None and master["shares"] == {"estuary-records": 750_000, "ines-duarte": 250_000}


def test_importing_the_same_messages_twice_writes_no_event(app: RoyaltyLedger) -> None:
    _import(app, *GOOD, "ern43_update.xml", "ern43_takedown.xml")
    head = app.head_position()
    again = _import(app, *GOOD, "ern43_update.xml", "ern43_takedown.xml")
    assert app.head_position() == head
    assert {i.result for i in again.items} == {"unchanged"}


def test_an_update_changes_exactly_what_it_names(app: RoyaltyLedger) -> None:
    _import(app, "ern43_single.xml")
    before = app.get_release("5012345678900")
    head = app.head_position()
    summary = _import(app, "ern43_update.xml")
    assert [i.result for i in summary.items] == ["updated"]
    redelivered = [app.decode(n) for n in app.read_log(head + 1, topics=app.topics_of(Release.Redelivered))]
    assert [set(e.changes) for e in redelivered] == [{"title", "release_date"}]
    after = app.get_release("5012345678900")
    assert after.title != before.title and after.track_isrcs == before.track_isrcs
    assert after.territories == before.territories and after.label_key == before.label_key


def test_a_takedown_message_takes_the_release_down(app: RoyaltyLedger) -> None:
    _import(app, "ern43_single.xml", "ern43_takedown.xml")
    release = app.get_release("5012345678900")
    taken = release.availability[-1]
    assert taken["action"] == "takedown"
    later = taken["effective_at"].replace(year=taken["effective_at"].year + 1)
    assert release.unavailable_reason(taken["territories"][0], later) is not None
    assert release.unavailable_reason(taken["territories"][0], taken["effective_at"].replace(year=2000)) is None


def test_a_release_with_a_bad_track_leaves_nothing_behind(app: RoyaltyLedger) -> None:
    head = app.head_position()
    summary = _import(app, "malformed_unknown_resource.xml")
    assert [i.result for i in summary.items] == ["rejected"]
    assert app.head_position() == head


def test_a_failure_while_importing_a_release_saves_none_of_its_aggregates(
    app: RoyaltyLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise ValueError("boom after the parties, works and recordings were prepared")

    monkeypatch.setattr(app, "_prepare_release", fail)
    head = app.head_position()
    with pytest.raises(ValueError, match="boom"):
        _import(app, "ern43_album.xml")
    assert app.head_position() == head
    assert recording_id("GBHRB2500101") not in app.repository


def test_unverified_sender_waits_in_review_until_approved_rejected_or_verified(app: RoyaltyLedger) -> None:
    _import(app, "ern43_single.xml", "ern43_album.xml", "ern382_album.xml")
    queue = {r.upc for r in review_queue(app)}
    assert queue == {"5012345678900", "5012345678917", "5012345678948"}
    app.decide_review("5012345678948", "rejected", "cover art missing", "reviewer:ana")
    rejected = app.get_release("5012345678948")
    assert rejected.status == "rejected" and rejected.review_history[-1]["actor"] == "reviewer:ana"
    approved = verify_sender(app, "northern-lights-distribution", "contract signed", "admin:lee")
    assert sorted(approved) == ["5012345678900", "5012345678917"]
    assert app.get_release("5012345678917").review_history[-1]["actor"] == "admin:lee"
    assert review_queue(app) == []
    later = _import(app, "ern43_multi_artist.xml")
    assert [i.status for i in later.items] == ["live"]


def test_a_suspended_sender_is_refused_and_a_release_cannot_be_taken_over(app: RoyaltyLedger, tmp_path: Path) -> None:
    _import(app, "ern43_single.xml")
    other = tmp_path / "other-sender.xml"
    other.write_bytes((FIXTURES / "ern43_single.xml").read_bytes().replace(b"PADPIDA2014120301", b"PADPIDA2099000001"))
    head = app.head_position()
    taken = import_paths(app, [other], "test")
    assert "only that sender may re-deliver it" in taken.items[0].reasons[0]
    assert app.head_position() == head
    app.set_party_verification("northern-lights-distribution", "suspended", "chargebacks", "admin")
    refused = _import(app, "ern43_album.xml")
    assert "suspended" in refused.items[0].reasons[0]


def test_malicious_files_are_refused_with_a_report(app: RoyaltyLedger, tmp_path: Path) -> None:
    head = app.head_position()
    summary = _import(
        app, "malicious_billion_laughs.xml", "malicious_xxe.xml", "malformed_bad_upc.xml", report_dir=tmp_path
    )
    assert app.head_position() == head and not summary.ok
    doc = json.loads((tmp_path / "import-report.json").read_text())
    errors = [e for f in doc["files"] for e in f["message_errors"]]
    assert any("entity expansion" in e for e in errors) and any("XXE" in e for e in errors)
    rows = (tmp_path / "import-report.csv").read_text().splitlines()
    assert any("check digit" in r and "5012345678901" in r for r in rows)


def test_a_csv_delivery_is_imported_like_ern_and_needs_its_sender(app: RoyaltyLedger) -> None:
    example = Path(__file__).resolve().parents[2] / "docs" / "examples" / "catalogue.csv"
    no_sender = import_paths(app, [example], "test")
    assert no_sender.files[0].refused
    app.upsert_party("label-co", "Label Co", ["label"], "test", {"dpid": "PADPIDA2020LABELCO"})
    app.set_party_verification("label-co", "verified", "member", "test")
    summary = import_paths(app, [example], "test", csv_sender="label-co")
    accepted = [i for i in summary.items if i.result == "accepted"]
    assert accepted and all(i.status == "live" for i in accepted)
    assert all(app.get_release(i.upc).delivered_by == "label-co" for i in accepted)
    receipts = app.aggregate_ids_with(DeliveryReceipt.Received)  # type: ignore[attr-defined]
    assert len(receipts) == len(accepted)


def test_one_bad_release_in_a_group_commit_leaves_the_others_imported(app: RoyaltyLedger, tmp_path: Path) -> None:
    _import(app, "ern43_single.xml")
    folder = tmp_path / "batch"
    folder.mkdir()
    for name in ("ern43_album.xml", "ern43_multi_artist.xml"):
        (folder / f"1-{name}").write_bytes((FIXTURES / name).read_bytes())
    hijack = (FIXTURES / "ern43_single.xml").read_bytes().replace(b"PADPIDA2014120301", b"PADPIDA2099000001")
    (folder / "2-hijack.xml").write_bytes(hijack)
    summary = import_paths(app, [folder], "test")
    assert [i.result for i in summary.items] == ["accepted", "accepted", "rejected"]
    assert app.get_release("5012345678917").delivered_by == "northern-lights-distribution"
    assert app.get_release("5012345678900").delivered_by == "northern-lights-distribution"
