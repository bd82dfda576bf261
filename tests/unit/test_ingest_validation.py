"""Validation: each release accepted whole (normalised) or rejected whole with every reason."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.ingest.delivery import InvalidShare, percentage_to_ppm
from ledger.ingest.ern import check_ern
from ledger.ingest.report import Status

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ern"
NOW = datetime(2025, 12, 1, tzinfo=UTC)


def single_with(*edits: tuple[str, str]) -> bytes:
    text = (FIXTURES / "ern43_single.xml").read_text()
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    return text.encode()


def reasons_for(source: Path | bytes) -> tuple[str, ...]:
    _message, report = check_ern(source, now=NOW)
    (outcome,) = report.outcomes
    assert outcome.status is Status.REJECTED
    return outcome.reasons


@pytest.mark.parametrize(
    ("fixture", "reasons"),
    [
        (
            "malformed_bad_upc.xml",
            ("ReleaseList/Release[1]/ReleaseId/ICPN: UPC 5012345678901: check digit should be 0",),
        ),
        (
            "malformed_unknown_resource.xml",
            ("ReleaseList/Release[1]: track 2 references resource A3, which is not in the message",),
        ),
    ],
)
def test_malformed_fixtures_are_rejected_with_exact_reasons(fixture: str, reasons: tuple[str, ...]) -> None:
    assert reasons_for(FIXTURES / fixture) == reasons


def test_every_reason_is_reported_not_just_the_first() -> None:
    source = single_with(
        ("<ICPN>5012345678900</ICPN>", "<ICPN>5012345678901</ICPN>"),
        ("<ISRC>GBHRB2500001</ISRC>", "<ISRC>GBHRB25001</ISRC>"),
        ("<ISWC>T-345.246.800-3</ISWC>", "<ISWC>T-345.246.800-4</ISWC>"),
        ("<IpiNameNumber>00451234585</IpiNameNumber>", "<IpiNameNumber>00451234586</IpiNameNumber>"),
        ("<Duration>PT3M25S</Duration>", "<Duration>3:25</Duration>"),
        ("<ReleaseDate>2025-02-14</ReleaseDate>", ""),
        ("<TerritoryCode>Worldwide</TerritoryCode>", "<TerritoryCode>XX</TerritoryCode>"),
    )
    assert reasons_for(source) == (
        "ReleaseList/Release[1]/ReleaseId/ICPN: UPC 5012345678901: check digit should be 0",
        "ResourceList/SoundRecording[1] (A1): ISRC GBHRB25001: wrong length",
        "ResourceList/SoundRecording[1] (A1): duration is missing or malformed",
        "ResourceList/SoundRecording[1] (work W-A1): ISWC T-345.246.800-4: check digit should be 3",
        "PartyList/Party[3] (PTomAvery): IPI 00451234586: check digits should be 85",
        "ReleaseList/Release[1]: territory XX: not an ISO 3166-1 alpha-2 code",
        "DealList/ReleaseDeal[1]/Deal[1]/DealTerms: territory XX: not an ISO 3166-1 alpha-2 code",
    )


def test_duplicate_isrc_within_a_release() -> None:
    album = (FIXTURES / "ern43_album.xml").read_text().replace("GBHRB2500105", "GBHRB2500104")
    assert reasons_for(album.encode()) == ("ReleaseList/Release[1]: ISRC GBHRB2500104 appears 2 times in the release",)


def test_shares_must_sum_to_a_million_ppm() -> None:
    source = single_with(
        ("<RightSharePercentage>70</RightSharePercentage>", "<RightSharePercentage>69</RightSharePercentage>"),
    )
    assert reasons_for(source) == (
        "ResourceList/SoundRecording[1] (A1) master split: shares sum to 990000 ppm, not 1000000",
    )


def test_a_share_finer_than_a_ppm_is_rejected_not_rounded() -> None:
    source = single_with(
        (
            "<RightSharePercentage>33.3334</RightSharePercentage>",
            "<RightSharePercentage>33.33334</RightSharePercentage>",
        ),
    )
    assert reasons_for(source) == (
        "ResourceList/SoundRecording[1] (work W-A1) publishing split: share '33.33334': "
        "not exact in parts per million (max 4 decimals)",
    )


def test_an_unknown_party_rejects_and_a_missing_label_goes_to_review() -> None:
    source = single_with(
        (
            "<ContributorPartyReference>PSamKell</ContributorPartyReference>",
            "<ContributorPartyReference>PNobody</ContributorPartyReference>",
        ),
    )
    assert reasons_for(source) == (
        "ResourceList/SoundRecording[1] (A1): references party PNobody, which is not in the message",
    )
    no_label = single_with(
        ("<ReleaseLabelReference>PHarbourRecords</ReleaseLabelReference>\n      <Genre>", "<Genre>"),
    )
    _message, report = check_ern(no_label, now=NOW)
    (outcome,) = report.accepted
    assert outcome.release is not None
    assert outcome.release.review == (
        "ReleaseList/Release[1]: no label (ReleaseLabelReference / LabelName); name the label before it goes live",
    )


def test_a_release_without_any_date_goes_to_review_with_the_element_path() -> None:
    source = single_with(
        ("<ReleaseDate>2025-02-14</ReleaseDate>", ""),
        ("<ValidityPeriod><StartDate>2025-02-14</StartDate></ValidityPeriod>", ""),
    )
    _message, report = check_ern(source, now=NOW)
    (outcome,) = report.accepted
    assert outcome.release is not None and outcome.release.release_on is None
    (reason,) = outcome.release.review
    assert reason.startswith("ReleaseList/Release[1]: no release date: none of ReleaseDate, OriginalReleaseDate")
    assert report.to_dict()["outcomes"][0]["review"] == [reason]  # type: ignore[index]


def test_a_release_date_falls_back_to_the_earliest_deal_start() -> None:
    _message, report = check_ern(single_with(("<ReleaseDate>2025-02-14</ReleaseDate>", "")), now=NOW)
    (outcome,) = report.accepted
    assert outcome.release is not None
    assert (outcome.release.release_on, outcome.release.release_date_source, outcome.release.review) == (
        date(2025, 2, 14),
        "DealList/ReleaseDeal[1]/Deal[1]/DealTerms/ValidityPeriod/StartDate",
        (),
    )


def test_a_recording_named_only_by_a_proprietary_id_passes_validation() -> None:
    # Whether the id is known from an earlier delivery is decided on import (test_catalogue_import).
    _message, report = check_ern(FIXTURES / "malformed_missing_isrc.xml", now=NOW)
    (outcome,) = report.accepted
    assert outcome.release is not None
    assert outcome.release.recordings[0].proprietary_ids == ("DPID:PADPIDA2014120301:TRK-1",)


def test_accepted_release_is_normalised() -> None:
    source = single_with(("<ISRC>GBHRB2500001</ISRC>", "<ISRC>GB-HRB-25-00001</ISRC>"))
    _message, report = check_ern(source, now=NOW)
    (outcome,) = report.accepted
    assert outcome.release is not None
    assert outcome.release.track_isrcs == ("GBHRB2500001",)


def test_message_errors_reject_every_release() -> None:
    source = single_with(
        ("<MessageCreatedDateTime>2025-01-15T09:30:00Z", "<MessageCreatedDateTime>2025-01-15T09:30:00"),
    )
    _message, report = check_ern(source, now=NOW)
    assert report.message_errors == (
        "MessageHeader: MessageCreatedDateTime '2025-01-15T09:30:00' is missing, malformed or has no UTC offset",
    )
    assert report.rejected[0].reasons == ("not imported: the message itself was rejected",)


def test_a_message_from_the_future_is_rejected() -> None:
    _message, report = check_ern(FIXTURES / "ern43_single.xml", now=datetime(2024, 1, 1, tzinfo=UTC))
    assert report.message_errors == ("MessageCreatedDateTime 2025-01-15T09:30:00+00:00 is in the future",)


def test_unreadable_file_report_has_only_a_message_error() -> None:
    message, report = check_ern(FIXTURES / "unsupported_message_type.xml")
    assert message is None and report.outcomes == ()
    assert not report.ok


def test_report_writers() -> None:
    _message, report = check_ern(FIXTURES / "malformed_bad_upc.xml", now=NOW)
    as_json = json.loads(report.to_json())
    assert as_json["counts"] == {"accepted": 0, "rejected": 1}
    assert as_json["outcomes"][0] == {
        "reference": "R0",
        "upc": "5012345678901",
        "title": "Lighthouse",
        "action": "new",
        "status": "rejected",
        "reasons": ["ReleaseList/Release[1]/ReleaseId/ICPN: UPC 5012345678901: check digit should be 0"],
        "review": [],
    }
    rows = list(csv.DictReader(io.StringIO(report.to_csv())))
    assert [(r["reference"], r["status"], r["reason"]) for r in rows] == [
        ("R0", "rejected", "ReleaseList/Release[1]/ReleaseId/ICPN: UPC 5012345678901: check digit should be 0")
    ]
    _message, unreadable = check_ern(FIXTURES / "wrong_root.xml")
    (row,) = csv.DictReader(io.StringIO(unreadable.to_csv()))
    assert (row["action"], row["status"]) == ("message", "rejected")


@pytest.mark.parametrize(
    ("text", "ppm"),
    [("100", 1_000_000), ("33.3334", 333_334), ("0.0001", 1), ("12.5%", 125_000), ("0", 0)],
)
def test_percentages_convert_exactly(text: str, ppm: int) -> None:
    assert percentage_to_ppm(text) == ppm


@pytest.mark.parametrize("text", ["33.33333", "-1", "100.0001", "abc", "NaN", "1e400"])
def test_bad_percentages_are_refused(text: str) -> None:
    with pytest.raises(InvalidShare):
        percentage_to_ppm(text)


@given(st.integers(min_value=0, max_value=1_000_000))
def test_every_ppm_round_trips_through_its_percentage(ppm: int) -> None:
    assert percentage_to_ppm(str(Decimal(ppm) / 10_000)) == ppm


def test_control_characters_in_names_and_titles_reject_the_release_and_name_the_character() -> None:
    """Issue 15 finding 3: XML 1.0 refuses NUL, but C1 controls and DEL are legal XML."""
    source = single_with(
        ("<FullName>Mara Quinn</FullName>", "<FullName>Mara&#x85;Quinn</FullName>"),
        ("<FullName>Tom Avery</FullName>", "<FullName>Tom&#x7f;Avery</FullName>"),
    )
    assert reasons_for(source) == (
        "PartyList/Party[1] (PMaraQuinn): name: control character U+0085 at character 5 is not allowed",
        "PartyList/Party[3] (PTomAvery): name: control character U+007F at character 4 is not allowed",
    )
