"""The rights timeline as known at a position: versions, back-dating, disputes, takedowns."""

from __future__ import annotations

from datetime import UTC, datetime

from ledger.royalties import read_rights_history, rights_timeline, to_us

ISRC = "USRC17607839"


def T(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def _catalogue(app):
    for key in ("ann", "lbl", "cat"):
        app.upsert_party(key, key, ["artist"], "t")
    app.upsert_recording(ISRC, "Moth", "Ann", 1000, "t")
    app.set_split("master", ISRC, {"ann": 500_000, "lbl": 500_000}, T(2026, 1, 1), "t", "v1")


def test_a_mid_month_version_cuts_the_month_into_two_segments(memory_app):
    _catalogue(memory_app)
    memory_app.set_split("master", ISRC, {"ann": 1_000_000}, T(2026, 1, 16), "t", "v2")
    h = read_rights_history(memory_app)
    segments = rights_timeline(h, ISRC, to_us(T(2026, 1, 1)), to_us(T(2026, 2, 1)), h.upto)
    assert [(s.start_us, s.context.master.version) for s in segments] == [
        (to_us(T(2026, 1, 1)), 1),
        (to_us(T(2026, 1, 16)), 2),
    ]


def test_a_back_dated_version_is_invisible_as_known_before_it_was_recorded(memory_app):
    _catalogue(memory_app)
    before = memory_app.head_position()
    memory_app.set_split("master", ISRC, {"lbl": 1_000_000}, T(2026, 1, 1), "t", "correction")
    h = read_rights_history(memory_app)
    start, end = to_us(T(2026, 1, 1)), to_us(T(2026, 2, 1))
    assert [s.context.master.version for s in rights_timeline(h, ISRC, start, end, before)] == [1]
    assert [s.context.master.version for s in rights_timeline(h, ISRC, start, end, h.upto)] == [2]


def test_an_open_dispute_applies_from_its_effective_time_and_a_takedown_blocks(memory_app):
    _catalogue(memory_app)
    memory_app.open_dispute(
        "master", ISRC, "cat", 200_000, T(2026, 1, 10), "mine", "t", respondent="lbl", by_operator=True
    )
    memory_app.take_down("recording", ISRC, ["DE"], "court order", T(2026, 1, 20), "t")
    h = read_rights_history(memory_app)
    segments = rights_timeline(h, ISRC, to_us(T(2026, 1, 1)), to_us(T(2026, 2, 1)), h.upto)
    assert [len(s.context.master.disputes) for s in segments] == [0, 1, 1]
    last = segments[-1].context
    assert last.for_usage("stream", "fixed_rate", "DE").blocked_reason == "court order"
    assert last.for_usage("stream", "fixed_rate", "FR").blocked_reason is None
