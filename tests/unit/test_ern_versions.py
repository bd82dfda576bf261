"""Every supported ERN version read into one model: the namespace picks the dialect; types and dates as sent."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from ledger.ingest.delivery import MessageKind, ReleaseType
from ledger.ingest.ern import SUPPORTED_VERSIONS, check_ern, parse_ern
from ledger.ingest.fields import KNOWN_RELEASE_TYPES, release_type
from ledger.ingest.xml_safety import UnsupportedMessage

ROOT = Path(__file__).resolve().parents[2]
VERSIONS_DIR = ROOT / "tests" / "fixtures" / "ern" / "versions"
sys.path.insert(0, str(ROOT / "tools"))
import gen_ern_fixtures  # noqa: E402

VERSIONS = list(gen_ern_fixtures.VERSIONS)
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def fixture(version: str, kind: str) -> Path:
    return VERSIONS_DIR / f"ern{version.replace('.', '')}_{kind}.xml"


def test_the_fixtures_are_what_the_generator_writes() -> None:
    expected = gen_ern_fixtures.fixtures()
    assert sorted(p.name for p in VERSIONS_DIR.glob("*.xml")) == sorted(expected)
    for name, text in expected.items():
        assert (VERSIONS_DIR / name).read_text() == text, name


@pytest.mark.parametrize("version", VERSIONS)
def test_each_version_reads_album_single_and_mix_into_one_model(version: str) -> None:
    album = parse_ern(fixture(version, "album"))
    assert (album.ern_version, album.kind) == (version, MessageKind.NEW)
    (release,) = album.releases
    assert (release.release_type, release.release_types, release.release_on) == ("album", ("Album",), date(2025, 3, 14))
    assert release.proprietary_ids == (f"DPID:PADPIDA2023061501M:MRD-ALB-{version.replace('.', '')}",)
    assert len(release.track_isrcs) == 3 and release.works[0].iswc == "T-900.000.001-1"
    assert [(d.territories, d.commercial_models, d.use_types) for d in release.deals] == [
        (("WW",), ("SubscriptionModel", "AdvertisementSupportedModel"), ("OnDemandStream", "NonInteractiveStream")),
        (("GB", "IE"), ("PayAsYouGoModel",), ("PermanentDownload",)),
    ]
    (single,) = parse_ern(fixture(version, "single")).releases
    assert (single.release_type, single.release_types) == ("single", ("Single", "SingleResourceRelease"))
    assert single.release_on == date(2025, 2, 7)  # from the original release date, the only one given
    assert single.release_date_source.endswith("OriginalReleaseDate")
    assert (single.territories, single.excluded_territories) == (("WW",), ("DE",))
    (mix,) = parse_ern(fixture(version, "mix")).releases
    assert mix.upc == "" and mix.key == f"GRID:{mix.grid}"
    if version.startswith("4"):
        assert (mix.release_type, mix.release_types) == ("dj_mix", ("DjMix",))
    else:
        assert (mix.release_type, mix.release_types) == ("classical", ("ClassicalAlbum", "UserDefined:ChamberRecital"))
    assert (mix.release_on, mix.release_date_source) == (
        date(2025, 4, 4),
        "DealList/ReleaseDeal[1]/Deal[1]/DealTerms/ValidityPeriod/StartDate",
    )


@pytest.mark.parametrize("version", VERSIONS)
def test_each_version_reads_updates_takedowns_purges_and_what_needs_review(version: str) -> None:
    update = parse_ern(fixture(version, "update"))
    # 3.8 says so (UpdateIndicator); a 4.x re-delivery is recognised on import by the release's ids.
    assert update.kind is (MessageKind.UPDATE if version.startswith("3") else MessageKind.NEW)
    assert update.releases[0].title == "Harbour Lights (Deluxe)"
    takedown = parse_ern(fixture(version, "takedown"))
    assert (takedown.kind, takedown.releases) == (MessageKind.TAKEDOWN, ())
    assert [(t.territories, t.effective_at) for t in takedown.takedowns] == [
        (("WW",), datetime(2025, 9, 1, tzinfo=UTC)),  # EndDate 2025-08-31 is the last day
        (("GB", "IE"), datetime(2025, 9, 1, tzinfo=UTC)),
    ]
    purge = parse_ern(fixture(version, "purge"))
    (purged,) = purge.takedowns
    assert (purge.kind, purged.upc, purged.key) == (MessageKind.TAKEDOWN, "", f"GRID:{purged.grid}")
    _message, report = check_ern(fixture(version, "review"), now=NOW)
    (outcome,) = report.accepted
    assert [reason.split(":")[0] for reason in outcome.review] == ["ReleaseList/Release[1]", "ReleaseList/Release[1]"]
    assert "no release date" in outcome.review[0] and "no label" in outcome.review[1]


def test_an_unknown_version_is_refused_with_the_supported_ones() -> None:
    text = fixture("4.3", "album").read_text().replace("http://ddex.net/xml/ern/43", "http://ddex.net/xml/ern/44")
    with pytest.raises(UnsupportedMessage) as refused:
        parse_ern(text.encode())
    assert "http://ddex.net/xml/ern/44" in str(refused.value)
    assert "supported: 3.8, 3.8.1, 3.8.2, 3.8.3, 4.1, 4.1.1, 4.2, 4.3, 4.3.1, 4.3.2" in str(refused.value)
    assert SUPPORTED_VERSIONS[:8] == tuple(VERSIONS)


@pytest.mark.parametrize(
    ("namespace", "version"),
    [
        ("http://service.ddex.net/xml/ern/411", "4.1.1"),
        ("http://ddex.net/xml/ern/431", "4.3.1"),
        ("http://ddex.net/xml/ern/432", "4.3.2"),
    ],
)
def test_4_3_revisions_and_the_service_host_read_as_4x(namespace: str, version: str) -> None:
    text = fixture("4.3", "album").read_text().replace("http://ddex.net/xml/ern/43", namespace)
    message = parse_ern(text.encode())
    assert (message.ern_version, message.releases[0].upc) == (version, "5060070000015")


def test_a_missing_message_id_is_refused_but_a_missing_date_is_not() -> None:
    text = fixture("3.8.1", "album").read_text().replace("<MessageId>MRD-381-ALBUM-1</MessageId>", "")
    _message, report = check_ern(text.encode(), now=NOW)
    assert report.message_errors == ("MessageHeader: MessageId is missing",)
    assert report.rejected[0].reasons == ("not imported: the message itself was rejected",)


# Every value of the DDEX ReleaseType allowed-value set (ERN 4 and the values 3.8 senders still use).
ALLOWED = [
    "Album",
    "AlertToneRelease",
    "AsPerContract",
    "AudioBookRelease",
    "AudioDramaRelease",
    "BackCoverImageRelease",
    "BookletBackImageRelease",
    "BookletFrontImageRelease",
    "BookletRelease",
    "Bundle",
    "ClassicalAlbum",
    "ClassicalDigitalBoxedSet",
    "ClassicalMultimediaAlbum",
    "ConcertVideo",
    "DigitalBoxSetRelease",
    "DjMix",
    "Documentary",
    "Drama",
    "DramaticoMusicalVideoRelease",
    "EBookRelease",
    "EP",
    "Episode",
    "FeatureFilm",
    "KaraokeRelease",
    "LiveEventVideo",
    "LogoRelease",
    "LongFormMusicalWorkVideoRelease",
    "LongFormNonMusicalWorkVideoRelease",
    "LyricSheetRelease",
    "MultimediaAlbum",
    "MultimediaDigitalBoxedSet",
    "MultimediaSingle",
    "MusicalWorkBasedGameRelease",
    "NonMusicalWorkBasedGameRelease",
    "PlayList",
    "RingbackToneRelease",
    "RingtoneRelease",
    "Season",
    "Series",
    "SheetMusicRelease",
    "ShortFilm",
    "Single",
    "SingleResourceRelease",
    "StemBundle",
    "VideoAlbum",
    "VideoMastertoneRelease",
    "VideoSingle",
    "WallpaperRelease",
    "SingleResourceReleaseWithCoverArt",
    "VideoClipRelease",
]


def test_every_allowed_release_type_has_a_kind_and_a_user_defined_one_is_other() -> None:
    assert {value.lower() for value in ALLOWED} <= KNOWN_RELEASE_TYPES
    kinds = {value: release_type([value], compilation=False) for value in ALLOWED}
    assert set(kinds.values()) <= {k.value for k in ReleaseType}
    assert (kinds["DjMix"], kinds["ClassicalAlbum"], kinds["EP"], kinds["VideoSingle"]) == (
        "dj_mix",
        "classical",
        "ep",
        "video",
    )
    assert release_type(["UserDefined:Mixtape"], compilation=False) == "other"
    assert release_type(["Album", "DjMix"], compilation=False) == "dj_mix"  # the most specific wins
    assert release_type(["Album"], compilation=True) == "compilation"
