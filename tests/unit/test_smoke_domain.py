from datetime import UTC, date, datetime

import pytest

from ledger.domain.party import DomainError
from ledger.domain.shares import InvalidShares


def test_registering_a_catalogue_and_a_split_records_events_with_their_actor(memory_app):
    app = memory_app
    app.upsert_party("aria", "Aria Lune", ["artist"], "cli:test")
    app.upsert_party("lbl", "Night Owl Records", ["label"], "cli:test")
    app.upsert_recording("USRC17607839", "Moth", "Aria Lune", 180_000, "cli:test")
    app.deliver_release("036000291452", "Moths", ["USRC17607839"], date(2026, 1, 9), "cli:test")
    agreement, version = app.set_split(
        "master",
        "USRC17607839",
        {"aria": 500_000, "lbl": 500_000},
        datetime(2026, 1, 1, tzinfo=UTC),
        "cli:test",
        "initial split",
    )
    assert agreement.get_version(version)["status"] == "active"
    events = [app.decode(n) for n in app.read_log()]
    assert all(e.actor == "cli:test" for e in events if hasattr(e, "actor"))


def test_shares_not_summing_to_a_million_are_refused_and_nothing_is_written(memory_app):
    app = memory_app
    app.upsert_party("aria", "Aria Lune", ["artist"], "cli:test")
    app.upsert_recording("USRC17607839", "Moth", "Aria Lune", 180_000, "cli:test")
    head = app.head_position()
    with pytest.raises(InvalidShares, match="sum to 999,999 ppm"):
        app.set_split("master", "USRC17607839", {"aria": 999_999}, datetime(2026, 1, 1, tzinfo=UTC), "cli:test", "bad")
    assert app.head_position() == head


def test_a_recording_with_a_bad_isrc_is_refused(memory_app):
    with pytest.raises(ValueError, match="ISRC USRC1760783X"):
        memory_app.upsert_recording("USRC1760783X", "Moth", "Aria", 1000, "cli:test")
    assert memory_app.head_position() == 0


def test_splits_naming_an_unknown_party_are_refused(memory_app):
    memory_app.upsert_recording("USRC17607839", "Moth", "Aria Lune", 180_000, "cli:test")
    with pytest.raises(DomainError, match="unknown party: ghost"):
        memory_app.set_split(
            "master", "USRC17607839", {"ghost": 1_000_000}, datetime(2026, 1, 1, tzinfo=UTC), "cli:test", "x"
        )
