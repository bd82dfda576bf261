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


def test_the_timelines_of_many_recordings_are_each_recordings_timeline(memory_app):
    """rights_timelines (a close's: the pie cuts found once) gives every recording, at every
    position, the segments rights_timeline gives it alone."""
    from ledger.royalties.timeline import rights_timelines

    _catalogue(memory_app)
    pie = {"*:*": {"platform": 300_000, "master": 560_000, "publishing": 140_000}}
    memory_app.set_rights_pie(pie, T(2025, 1, 1), "t", "t")
    memory_app.upsert_work("song", "Song", [{"party": "cat", "role": "composer"}], "t")
    memory_app.upsert_recording("USRC17600002", "Two", "Cat", 1000, "t", work_key="song")
    memory_app.upsert_recording("USRC17600003", "Three", "Lbl", 1000, "t")
    memory_app.set_split("master", "USRC17600002", {"cat": 1_000_000}, T(2025, 6, 1), "t", "v1")
    memory_app.set_split("publishing", "song", {"cat": 600_000, "ann": 400_000}, T(2026, 1, 12), "t", "v1")
    positions = [memory_app.head_position()]
    memory_app.set_split("master", ISRC, {"ann": 1_000_000}, T(2026, 1, 16), "t", "v2")
    memory_app.set_rights_pie(
        {"*:*": {"platform": 200_000, "master": 660_000, "publishing": 140_000}}, T(2026, 1, 20), "t", "t"
    )
    positions.append(memory_app.head_position())
    memory_app.open_dispute(
        "master", ISRC, "cat", 200_000, T(2026, 1, 10), "mine", "t", respondent="lbl", by_operator=True
    )
    memory_app.take_down("recording", "USRC17600002", ["DE"], "court order", T(2026, 1, 25), "t")
    memory_app.set_split("master", "USRC17600003", {"lbl": 1_000_000}, T(2026, 1, 20), "t", "v1")
    positions.append(memory_app.head_position())
    h = read_rights_history(memory_app)
    isrcs = [ISRC, "USRC17600002", "USRC17600003", "USRC17600009"]
    start, end = to_us(T(2026, 1, 1)), to_us(T(2026, 2, 1))
    for as_of in positions:
        alone = {isrc: rights_timeline(h, isrc, start, end, as_of) for isrc in isrcs}
        assert rights_timelines(h, isrcs, start, end, as_of) == alone
    assert len(alone["USRC17600002"]) == 4 and len(alone[ISRC]) == 4  # every kind of cut was met
