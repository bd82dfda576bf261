"""The catalogue CSV template: same model and validation as ERN, release by release."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from ledger.ingest.catalogue_csv import check_catalogue_csv, csv_duration_ms, parse_catalogue_csv
from ledger.ingest.delivery import Credit, PartyKind, Writer
from ledger.ingest.report import Status

EXAMPLE = Path(__file__).parent.parent.parent / "docs" / "examples" / "catalogue.csv"
SENDER = {"sender_dpid": "PADPIDA2014120301", "sender_name": "Tidewater Records"}
CREATED = datetime(2025, 6, 1, tzinfo=UTC)
HEADER = (
    "upc,release_title,release_type,release_date,label,release_artist,track_number,isrc,"
    "track_title,track_artist,duration"
)


def check(text: str) -> tuple[tuple[str, ...], ...]:
    _message, report = check_catalogue_csv(text, created_at=CREATED, now=CREATED, **SENDER)
    return tuple(o.reasons for o in report.outcomes) or (report.message_errors,)


def test_the_documented_example_is_accepted_with_exact_values() -> None:
    message, report = check_catalogue_csv(EXAMPLE, created_at=CREATED, now=CREATED, **SENDER)
    assert report.ok and [o.status for o in report.outcomes] == [Status.ACCEPTED] * 2
    assert (message.ern_version, message.sender_dpid) == ("csv", "PADPIDA2014120301")
    ep, single = message.releases
    assert (ep.upc, ep.title, ep.release_type, ep.release_on) == (
        "5012345678962",
        "Open Water",
        "ep",
        date(2025, 7, 4),
    )
    assert ep.track_isrcs == ("GBTDW2500001", "GBTDW2500002", "GBTDW2500003")
    assert [r.duration_ms for r in ep.recordings] == [221_000, 245_000, 245_000]
    names = {p.reference: p.name for p in ep.parties}
    assert names[ep.label_ref or ""] == "Tidewater Records"
    breakwater = ep.recordings[1]
    assert [(names[c.party_ref], c.role) for c in breakwater.credits] == [
        ("Oskar Lind", "main_artist"),
        ("Mara Quinn", "featured_artist"),
        ("Rui Costa", "producer"),
    ]
    assert [(names[s.party_ref], s.ppm) for s in breakwater.master_split] == [
        ("Tidewater Records", 700_000),
        ("Oskar Lind", 300_000),
    ]
    first_work = ep.works[0]
    assert first_work.iswc == "T-345.246.800-3"
    assert [(names[w.party_ref], w.share_ppm) for w in first_work.writers] == [
        ("Oskar Lind", 500_000),
        ("Tom Avery", 500_000),
    ]
    writers = {p.name: p for p in ep.parties}
    assert (writers["Tom Avery"].ipi, writers["Tom Avery"].kind) == ("00451234585", PartyKind.WRITER)
    assert single.territories == ("US", "CA", "GB", "IE")
    assert single.deals[0].use_types == ("OnDemandStream",)


def test_tracks_are_ordered_by_track_number_not_row_order() -> None:
    rows = [
        "5012345678962,EP,EP,2025-07-04,Lbl,Art,2,GBTDW2500002,Two,Art,2:00",
        "5012345678962,EP,EP,2025-07-04,Lbl,Art,1,GBTDW2500001,One,Art,1:00",
    ]
    message = parse_catalogue_csv("\n".join([HEADER, *rows]), created_at=CREATED, **SENDER)
    release = message.releases[0]
    assert release.track_isrcs == ("GBTDW2500001", "GBTDW2500002")
    assert release.recordings[0].credits == (Credit(release.recordings[0].credits[0].party_ref, "main_artist"),)
    assert release.territories == ("WW",)


def test_one_bad_release_does_not_block_the_others() -> None:
    rows = [
        "5012345678962,Good,Single,2025-07-04,Lbl,Art,1,GBTDW2500001,One,Art,3:00",
        "5012345678961,Bad,Single,2025-07-04,Lbl,Art,1,GBTDW2500002,Two,Art,3:00",
    ]
    assert check("\n".join([HEADER, *rows])) == (
        (),
        ("release: UPC 5012345678961: check digit should be 2",),
    )


def test_rows_of_one_release_must_agree_and_numbers_be_unique() -> None:
    rows = [
        "5012345678962,EP,EP,2025-07-04,Lbl,Art,1,GBTDW2500001,One,Art,3:00",
        "5012345678962,EP 2,EP,2025-07-04,Lbl,Art,1,GBTDW2500002,Two,Art,abc",
    ]
    assert check("\n".join([HEADER, *rows])) == (
        (
            "row 3: release_title 'EP 2' differs from row 2 ('EP')",
            "track_number 1 appears 2 times",
            "row 3: duration 'abc' is not mm:ss or seconds",
            "recording A3: duration is missing or malformed",
        ),
    )


def test_writer_shares_and_master_split_use_the_same_rules() -> None:
    header = HEADER + ",writers,master_split"
    row = "5012345678962,S,Single,2025-07-04,Lbl,Art,1,GBTDW2500001,One,Art,3:00,A::60;B::30,Lbl:100.00001"
    assert check(f"{header}\n{row}") == (
        (
            "recording A2 master split: share '100.00001': must be between 0 and 100 percent",
            "work W2 publishing split: shares sum to 900000 ppm, not 1000000",
        ),
    )


def test_missing_and_unknown_columns_are_message_errors() -> None:
    assert check("upc,title\n1,x\n") == (
        (
            "missing columns: release_title, release_type, release_date, label, release_artist, "
            "track_number, isrc, track_title, track_artist, duration",
            "unknown columns: title",
            "the message contains no release and no takedown",
        ),
    )


@pytest.mark.parametrize(
    ("text", "ms"),
    [("3:25", 205_000), ("1:02:03", 3_723_000), ("245", 245_000), ("3:25.5", 205_500)],
)
def test_durations(text: str, ms: int) -> None:
    assert csv_duration_ms(text) == ms


@pytest.mark.parametrize("text", ["", "abc", "3m25s", "-3:00", "1:2:3:4"])
def test_bad_durations(text: str) -> None:
    assert csv_duration_ms(text) is None


def test_writers_without_shares_are_allowed() -> None:
    header = HEADER + ",writers"
    row = "5012345678962,S,Single,2025-07-04,Lbl,Art,1,GBTDW2500001,One,Art,3:00,A:00451234585"
    message = parse_catalogue_csv(f"{header}\n{row}", created_at=CREATED, **SENDER)
    (work,) = message.releases[0].works
    assert work.writers == (Writer(work.writers[0].party_ref, "composer_lyricist", None),)
    assert check(f"{header}\n{row}") == ((),)


def test_a_track_number_that_only_looks_like_digits_is_refused_not_fatal() -> None:
    rows = ["5012345678962,EP,EP,2025-07-04,Lbl,Art,²,GBTDW2500001,One,Art,1:00"]
    assert check("\n".join([HEADER, *rows])) == (("row 2: track_number '²' is not 1, 2, 3…",),)


def test_control_characters_and_over_long_titles_reject_the_release() -> None:
    """Issue 15 finding 3: the catalogue CSV gets the same text rules as every other way in."""
    bell = "5012345678962,EP,EP,2025-07-04,Lbl,Art,1,GBTDW2500001,One\x07,Art,3:00"
    long = f"5012345678962,{'t' * 501},EP,2025-07-04,Lbl,Art,1,GBTDW2500001,One,Art,3:00"
    [reasons] = check("\n".join([HEADER, bell]))
    assert any("title: control character U+0007 at character 4 is not allowed" in r for r in reasons), reasons
    [reasons] = check("\n".join([HEADER, long]))
    assert any("title: 501 characters, more than the 500 allowed" in r for r in reasons), reasons
