"""Synthetic but valid ERN 4.3 NewReleaseMessages, for the demo and the benchmarks.

Deterministic for a seed; every UPC, ISWC and IPI carries a correct check digit and every ISRC
is well formed and unique within a run. One message per release, as ERN 4.3 has one main
Release per message. `python -m ledger.ingest.ern_generate COUNT DIR [--seed N] [--tracks N]`.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import escape

from stdnum import ean

from ledger.domain.identifiers import ipi_check_digits, iswc_check_digit

SENDER_DPID = "PADPIDA2024010101X"
SENDER_NAME = "Synthetic Distribution"
_FIRST = ("Ada", "Bea", "Cy", "Dee", "Eli", "Fay", "Gus", "Hal", "Ivy", "Jo", "Kai", "Lu")
_LAST = ("Stone", "Rivers", "Vale", "North", "Moss", "Hart", "Lake", "Reed", "Fox", "Gray")
_WORDS = ("Night", "River", "Glass", "Echo", "Paper", "Summer", "Static", "Velvet", "Ghost", "Blue")


def upc_for(number: int) -> str:
    body = f"{19_000_000_000 + number:011d}"
    return body + ean.calc_check_digit(body)


def iswc_for(number: int) -> str:
    digits = f"{number:09d}"
    return f"T-{digits[:3]}.{digits[3:6]}.{digits[6:]}-{iswc_check_digit(digits)}"


def ipi_for(number: int) -> str:
    digits = f"{number:09d}"
    return digits + ipi_check_digits(digits)


def isrc_for(release: int, track: int) -> str:
    serial = release * 100 + track
    return f"GBSYN{serial // 100_000 % 100:02d}{serial % 100_000:05d}"


def _name(rng: random.Random) -> str:
    return f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"


def _title(rng: random.Random) -> str:
    return " ".join(rng.sample(_WORDS, 2))


def _party(ref: str, name: str, ids: str = "") -> str:
    id_block = f"<PartyId>{ids}</PartyId>" if ids else ""
    return (
        f"<Party><PartyReference>{ref}</PartyReference>"
        f"<PartyName><FullName>{escape(name)}</FullName></PartyName>{id_block}</Party>"
    )


def _recording(index: int, track: int, artist: str, rng: random.Random) -> str:
    number = index * 100 + track
    seconds = rng.randint(95, 420)
    return (
        f"<SoundRecording><ResourceReference>A{track}</ResourceReference>"
        "<Type>MusicalWorkSoundRecording</Type><SoundRecordingEdition>"
        f"<ResourceId><ISRC>{isrc_for(index, track)}</ISRC></ResourceId></SoundRecordingEdition>"
        f"<WorkId><ISWC>{iswc_for(number)}</ISWC></WorkId>"
        f"<DisplayTitleText>{escape(_title(rng))}</DisplayTitleText>"
        f"<DisplayArtistName>{escape(artist)}</DisplayArtistName>"
        '<DisplayArtist SequenceNumber="1"><ArtistPartyReference>PArtist</ArtistPartyReference>'
        "<DisplayArtistRole>MainArtist</DisplayArtistRole></DisplayArtist>"
        '<Contributor SequenceNumber="1"><ContributorPartyReference>PWriter1'
        "</ContributorPartyReference><Role>Composer</Role></Contributor>"
        '<Contributor SequenceNumber="2"><ContributorPartyReference>PWriter2'
        "</ContributorPartyReference><Role>Lyricist</Role></Contributor>"
        '<Contributor SequenceNumber="3"><ContributorPartyReference>PProducer'
        "</ContributorPartyReference><Role>Producer</Role></Contributor>"
        "<ResourceRightsController><RightsControllerPartyReference>PLabel"
        "</RightsControllerPartyReference><RightsControlType>RightsController"
        "</RightsControlType><RightSharePercentage>60</RightSharePercentage>"
        "</ResourceRightsController>"
        "<ResourceRightsController><RightsControllerPartyReference>PArtist"
        "</RightsControllerPartyReference><RightsControlType>RightsController"
        "</RightsControlType><RightSharePercentage>40</RightSharePercentage>"
        "</ResourceRightsController>"
        "<WorkRightsController><RightsControllerPartyReference>PWriter1"
        "</RightsControllerPartyReference><RightSharePercentage>50</RightSharePercentage>"
        "</WorkRightsController>"
        "<WorkRightsController><RightsControllerPartyReference>PWriter2"
        "</RightsControllerPartyReference><RightSharePercentage>50</RightSharePercentage>"
        "</WorkRightsController>"
        f"<Duration>PT{seconds // 60}M{seconds % 60}S</Duration>"
        "<ParentalWarningType>NotExplicit</ParentalWarningType></SoundRecording>"
    )


def release_message(index: int, *, seed: int = 0, tracks: int = 10) -> bytes:
    """The index-th synthetic release as one ERN 4.3 NewReleaseMessage."""
    rng = random.Random(f"{seed}:{index}")
    artist, label = _name(rng), f"{rng.choice(_WORDS)} Records"
    parties = "".join(
        (
            _party("PLabel", label),
            _party("PArtist", artist),
            _party("PWriter1", _name(rng), f"<IpiNameNumber>{ipi_for(index * 2 + 1)}</IpiNameNumber>"),
            _party("PWriter2", _name(rng), f"<IpiNameNumber>{ipi_for(index * 2 + 2)}</IpiNameNumber>"),
            _party("PProducer", _name(rng)),
        )
    )
    recordings = "".join(_recording(index, t, artist, rng) for t in range(1, tracks + 1))
    items = "".join(
        f"<ResourceGroupContentItem><SequenceNumber>{t}</SequenceNumber>"
        f"<ReleaseResourceReference>A{t}</ReleaseResourceReference></ResourceGroupContentItem>"
        for t in range(1, tracks + 1)
    )
    day = 1 + index % 28
    release = (
        "<Release><ReleaseReference>R0</ReleaseReference>"
        f"<ReleaseType>{'Album' if tracks > 6 else 'EP' if tracks > 1 else 'Single'}</ReleaseType>"
        f"<ReleaseId><ICPN>{upc_for(index + 1)}</ICPN></ReleaseId>"
        f"<DisplayTitleText>{escape(_title(rng))}</DisplayTitleText>"
        f"<DisplayArtistName>{escape(artist)}</DisplayArtistName>"
        '<DisplayArtist SequenceNumber="1"><ArtistPartyReference>PArtist</ArtistPartyReference>'
        "<DisplayArtistRole>MainArtist</DisplayArtistRole></DisplayArtist>"
        "<ReleaseLabelReference>PLabel</ReleaseLabelReference>"
        f"<Genre><GenreText>Pop</GenreText></Genre><ReleaseDate>2025-03-{day:02d}</ReleaseDate>"
        "<ParentalWarningType>NotExplicit</ParentalWarningType>"
        f"<ResourceGroup>{items}</ResourceGroup></Release>"
    )
    deal = (
        "<ReleaseDeal><DealReleaseReference>R0</DealReleaseReference><Deal><DealTerms>"
        "<TerritoryCode>Worldwide</TerritoryCode><ValidityPeriod>"
        f"<StartDate>2025-03-{day:02d}</StartDate></ValidityPeriod>"
        "<CommercialModelType>SubscriptionModel</CommercialModelType>"
        "<CommercialModelType>PayAsYouGoModel</CommercialModelType>"
        "<UseType>OnDemandStream</UseType><UseType>PermanentDownload</UseType>"
        "</DealTerms></Deal></ReleaseDeal>"
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<ern:NewReleaseMessage xmlns:ern="http://ddex.net/xml/ern/43" AvsVersionId="4" '
        'LanguageAndScriptCode="en"><MessageHeader>'
        f"<MessageId>SYN-{seed}-{index:06d}</MessageId><MessageSender>"
        f"<PartyId>{SENDER_DPID}</PartyId><PartyName><FullName>{SENDER_NAME}</FullName>"
        "</PartyName></MessageSender><MessageRecipient><PartyId>PADPIDA2025000001C</PartyId>"
        "</MessageRecipient><MessageCreatedDateTime>2025-02-01T12:00:00Z"
        "</MessageCreatedDateTime></MessageHeader>"
        f"<PartyList>{parties}</PartyList><ResourceList>{recordings}</ResourceList>"
        f"<ReleaseList>{release}</ReleaseList><DealList>{deal}</DealList>"
        "</ern:NewReleaseMessage>\n"
    ).encode()


def release_messages(count: int, *, seed: int = 0, tracks: int = 10) -> Iterator[bytes]:
    for index in range(count):
        yield release_message(index, seed=seed, tracks=tracks)


def write_release_messages(directory: Path, count: int, *, seed: int = 0, tracks: int = 10) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, body in enumerate(release_messages(count, seed=seed, tracks=tracks)):
        path = directory / f"release-{seed}-{index:06d}.xml"
        path.write_bytes(body)
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("count", type=int)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tracks", type=int, default=10)
    args = parser.parse_args(argv)
    written = write_release_messages(args.directory, args.count, seed=args.seed, tracks=args.tracks)
    print(f"wrote {len(written)} ERN 4.3 messages to {args.directory}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
