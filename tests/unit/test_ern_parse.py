"""Reading DDEX ERN 3.8.2 and 4.3 messages: exact values out, unsafe and broken files refused."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from ledger.ingest.delivery import (
    Credit,
    DeliveredRelease,
    MessageKind,
    PartyKind,
    Share,
    Takedown,
    Writer,
)
from ledger.ingest.ern import check_ern, parse_ern
from ledger.ingest.ern_generate import release_message
from ledger.ingest.xml_safety import MalformedXml, UnsafeXml, UnsupportedMessage

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ern"


def only_release(name: str) -> DeliveredRelease:
    message = parse_ern(FIXTURES / name)
    assert len(message.releases) == 1
    return message.releases[0]


def test_a_43_single_reads_header_release_recording_work_and_splits() -> None:
    message = parse_ern(FIXTURES / "ern43_single.xml")
    assert (message.ern_version, message.kind) == ("4.3", MessageKind.NEW)
    assert (message.sender_dpid, message.sender_name) == (
        "PADPIDA2014120301",
        "Northern Lights Distribution",
    )
    assert message.message_id == "MSG-43-SINGLE-001"
    assert message.created_at == datetime(2025, 1, 15, 9, 30, tzinfo=UTC)
    release = message.releases[0]
    assert (release.upc, release.title, release.release_type) == (
        "5012345678900",
        "Lighthouse",
        "single",
    )
    assert (release.display_artist, release.release_on) == ("Mara Quinn", date(2025, 2, 14))
    assert release.label_ref == "PHarbourRecords"
    assert release.track_isrcs == ("GBHRB2500001",)
    assert release.territories == ("WW",)
    recording = release.recordings[0]
    assert (recording.title, recording.duration_ms) == ("Lighthouse", 205_000)
    assert recording.credits == (
        Credit("PMaraQuinn", "main_artist"),
        Credit("PTomAvery", "composer"),
        Credit("PLenaOstrova", "lyricist"),
        Credit("PSamKell", "producer"),
        Credit("PJoLindqvist", "mixer"),
    )
    assert recording.master_split == (Share("PHarbourRecords", "70"), Share("PMaraQuinn", "30"))
    assert [s.ppm for s in recording.master_split] == [700_000, 300_000]
    work = release.works[0]
    assert (work.iswc, work.title) == ("T-345.246.800-3", "Lighthouse")
    assert work.writers == (
        Writer("PTomAvery", "composer", "33.3334"),
        Writer("PLenaOstrova", "lyricist", "33.3333"),
        Writer("PHarbourSongs", "publisher", "33.3333"),
    )
    assert [w.share_ppm for w in work.writers] == [333_334, 333_333, 333_333]


def test_parties_carry_identifiers_and_the_kind_they_are_used_as() -> None:
    parties = {p.reference: p for p in only_release("ern43_single.xml").parties}
    assert parties["PHarbourRecords"].kind is PartyKind.LABEL
    assert parties["PHarbourRecords"].dpid == "PADPIDA2019052201L"
    assert (parties["PMaraQuinn"].kind, parties["PMaraQuinn"].isni) == (
        PartyKind.ARTIST,
        "0000000121032683",
    )
    assert (parties["PTomAvery"].kind, parties["PTomAvery"].ipi) == (
        PartyKind.WRITER,
        "00451234585",
    )
    assert parties["PHarbourSongs"].kind is PartyKind.PUBLISHER
    assert parties["PSamKell"].kind is PartyKind.PRODUCER


def test_the_cover_image_and_track_releases_are_not_tracks_or_releases() -> None:
    release = only_release("ern43_single.xml")
    assert release.track_refs == ("A1",)


def test_album_tracks_follow_sequence_numbers_not_document_order() -> None:
    release = only_release("ern43_album.xml")
    assert release.release_type == "album"
    assert release.track_isrcs == tuple(f"GBHRB25001{n:02d}" for n in range(1, 13))
    assert [r.title for r in release.recordings[:3]] == ["Low Tide", "Salt Map", "Compass Rose"]
    assert release.recordings[10].duration_ms == 213_500


def test_compilation_with_featured_artists() -> None:
    release = only_release("ern43_multi_artist.xml")
    assert (release.release_type, release.display_artist) == ("compilation", "Various Artists")
    night_ferry = release.recordings[2]
    assert night_ferry.display_artist == "Oskar Lind feat. Mara Quinn & Kofi Mensah"
    assert night_ferry.credits == (
        Credit("POskarLind", "main_artist"),
        Credit("PMaraQuinn", "featured_artist"),
        Credit("PKofiMensah", "featured_artist"),
        Credit("PKofiMensah", "mixer"),
    )
    two_coasts = release.recordings[1]
    assert [c.role for c in two_coasts.credits[:2]] == ["main_artist", "main_artist"]


def test_restricted_territories_and_deals() -> None:
    release = only_release("ern43_restricted.xml")
    assert release.territories == ("US", "CA", "GB")
    streams, downloads = release.deals
    assert (streams.use_types, streams.territories) == (("OnDemandStream",), ("US", "CA", "GB"))
    assert (downloads.commercial_models, downloads.territories) == (("PayAsYouGoModel",), ("US",))
    assert streams.starts_on == date(2025, 6, 6)


def test_43_redelivery_changes_exactly_the_title_and_release_date() -> None:
    before = only_release("ern43_single.xml")
    after = only_release("ern43_update.xml")
    assert (after.title, after.release_on) == ("Lighthouse (Single Edit)", date(2025, 2, 21))
    assert after.upc == before.upc
    assert after.recordings == before.recordings and after.parties == before.parties
    assert after.deals == before.deals and after.works == before.works


def test_43_takedown_is_a_deal_that_ends() -> None:
    message = parse_ern(FIXTURES / "ern43_takedown.xml")
    assert (message.kind, message.releases) == (MessageKind.TAKEDOWN, ())
    assert message.takedowns == (
        Takedown(
            upc="5012345678900",
            territories=("GB", "IE"),
            effective_at=datetime(2025, 6, 30, tzinfo=UTC),
            reason="deal ended",
            release_ref="R0",
            path="DealList/ReleaseDeal[1]/Deal[1]/DealTerms",
        ),
    )


def test_purge_release_message_is_a_worldwide_takedown() -> None:
    message = parse_ern(FIXTURES / "ern43_purge.xml")
    assert message.kind is MessageKind.TAKEDOWN
    assert message.takedowns == (
        Takedown(
            upc="5012345678900",
            effective_at=datetime(2025, 7, 1, tzinfo=UTC),
            reason="purge",
            path="PurgedRelease[1]",
        ),
    )


def test_382_album_reads_work_list_inline_parties_and_skips_track_releases() -> None:
    message = parse_ern(FIXTURES / "ern382_album.xml")
    assert (message.ern_version, message.kind, len(message.releases)) == ("3.8.2", "new", 1)
    release = message.releases[0]
    assert (release.title, release.release_on, release.release_type) == (
        "Slow Weather",
        date(2025, 3, 21),
        "album",
    )
    assert release.track_isrcs == tuple(f"PTEST25000{n:02d}" for n in range(1, 11))
    parties = {p.name: p for p in release.parties}
    assert release.label_ref == parties["Estuary Records"].reference
    track7 = release.recordings[6]
    assert (track7.title, track7.display_artist, track7.work_ref) == (
        "Lisbon, 4am",
        "Ines Duarte feat. Kofi Mensah",
        "W7",
    )
    roles = [(release.party(c.party_ref).name, c.role) for c in track7.credits]  # type: ignore[union-attr]
    assert roles == [
        ("Ines Duarte", "main_artist"),
        ("Kofi Mensah", "featured_artist"),
        ("Rui Costa", "producer"),
        ("Ana Reis", "mixer"),
    ]
    assert [(release.party(s.party_ref).name, s.ppm) for s in track7.master_split] == [  # type: ignore[union-attr]
        ("Estuary Records", 750_000),
        ("Ines Duarte", 250_000),
    ]
    work = release.works[0]
    assert (work.reference, work.iswc, work.title) == ("W1", "T-345.246.801-4", "Slow Weather")
    assert [(release.party(w.party_ref).ipi, w.role, w.share_ppm) for w in work.writers] == [  # type: ignore[union-attr]
        ("00451234879", "composer_lyricist", 600_000),
        ("00451234585", "composer", 400_000),
    ]


def test_382_update_indicator_marks_an_update() -> None:
    message = parse_ern(FIXTURES / "ern382_update.xml")
    before = only_release("ern382_album.xml")
    after = message.releases[0]
    assert message.kind is MessageKind.UPDATE
    assert after.release_on == date(2025, 3, 28)
    assert after.recordings[2].title == "The Long Room (Live)"
    assert after.recordings[:2] == before.recordings[:2]
    assert after.recordings[3:] == before.recordings[3:]


def test_382_excluded_territories_mean_worldwide_except() -> None:
    release = only_release("ern382_single_restricted.xml")
    assert (release.territories, release.excluded_territories) == (("WW",), ("DE", "FR"))
    assert [c.role for c in release.recordings[0].credits] == [
        "main_artist",
        "featured_artist",
        "producer",
        "composer",
    ]


def test_382_takedown_deal() -> None:
    message = parse_ern(FIXTURES / "ern382_takedown.xml")
    assert message.kind is MessageKind.TAKEDOWN
    (takedown,) = message.takedowns
    assert (takedown.upc, takedown.territories) == ("5012345678955", ("WW",))
    assert takedown.effective_at == datetime(2025, 9, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "error", "words"),
    [
        ("malicious_billion_laughs.xml", UnsafeXml, "entity expansion"),
        ("malicious_xxe.xml", UnsafeXml, "file:///etc/passwd"),
        ("malformed_not_xml.xml", MalformedXml, "not well-formed"),
        ("malformed_truncated.xml", MalformedXml, "not well-formed"),
        ("wrong_root.xml", UnsupportedMessage, "<catalogue>"),
        ("unsupported_message_type.xml", UnsupportedMessage, "CatalogListMessage"),
    ],
)
def test_unsafe_and_unreadable_files_are_refused_with_a_reason(name: str, error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=words.replace("(", r"\(")):
        parse_ern(FIXTURES / name)


def test_the_billion_laughs_is_refused_quickly_and_nothing_is_expanded() -> None:
    started = time.perf_counter()
    message, report = check_ern(FIXTURES / "malicious_billion_laughs.xml")
    assert message is None and "entity expansion is not allowed" in report.message_errors[0]
    assert time.perf_counter() - started < 1.0


def test_xxe_never_reads_the_file() -> None:
    message, report = check_ern((FIXTURES / "malicious_xxe.xml").read_bytes())
    assert message is None
    assert "root:" not in report.to_json()
    assert "XXE is not allowed" in report.message_errors[0]


def test_generated_messages_parse_with_valid_identifiers() -> None:
    message, report = check_ern(release_message(7, seed=3, tracks=12))
    assert message is not None and report.ok
    assert len(message.releases[0].recordings) == 12
    assert release_message(7, seed=3) == release_message(7, seed=3)
    assert release_message(7, seed=3) != release_message(7, seed=4)
