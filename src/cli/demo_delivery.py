"""The demo's deliveries as files: ERN 4.3 and 3.8.2 messages and one catalogue CSV, from plain values."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date
from xml.sax.saxutils import escape, quoteattr

from ledger.safe_csv import csv_writer


@dataclass(frozen=True)
class Person:
    name: str
    ipi: str = ""
    isni: str = ""
    dpid: str = ""


@dataclass(frozen=True)
class DemoWork:
    iswc: str
    title: str
    writers: tuple[Person, ...]
    shares: tuple[tuple[Person, str], ...]  # writers and the publisher, as percentages


@dataclass(frozen=True)
class DemoTrack:
    isrc: str
    title: str
    artist: Person
    seconds: int
    crew: tuple[tuple[Person, str], ...]  # (person, DDEX role)
    master: tuple[tuple[Person, str], ...]
    featured: Person | None = None
    work: DemoWork | None = None

    @property
    def display(self) -> str:
        return f"{self.artist.name} feat. {self.featured.name}" if self.featured else self.artist.name


@dataclass(frozen=True)
class DemoRelease:
    upc: str
    title: str
    release_type: str
    released: date
    label: Person
    artist: Person
    tracks: tuple[DemoTrack, ...]
    territories: tuple[str, ...] = ("WW",)


@dataclass
class Sender:
    dpid: str
    name: str
    created_at: str  # ISO 8601 with offset
    refs: dict[str, str] = field(default_factory=dict)


def _e(tag: str, value: str, attrs: str = "") -> str:
    return f"<{tag}{attrs}>{escape(value)}</{tag}>"


def _duration(seconds: int) -> str:
    return f"PT{seconds // 60}M{seconds % 60}S"


def _header(sender: Sender, message_id: str) -> str:
    return (
        f"<MessageHeader>{_e('MessageId', message_id)}<MessageSender>{_e('PartyId', sender.dpid)}"
        f"<PartyName>{_e('FullName', sender.name)}</PartyName></MessageSender><MessageRecipient>"
        f"{_e('PartyId', 'PADPIDA2025000001C')}</MessageRecipient>"
        f"{_e('MessageCreatedDateTime', sender.created_at)}</MessageHeader>"
    )


def _territories(release: DemoRelease) -> str:
    return "".join(_e("TerritoryCode", "Worldwide" if t == "WW" else t) for t in release.territories)


def _people(release: DemoRelease) -> list[Person]:
    people = [release.label, release.artist]
    for t in release.tracks:
        people += [t.artist, *(p for p, _ in t.crew), *(p for p, _ in t.master)]
        people += [t.featured] if t.featured else []
        if t.work:
            people += [*t.work.writers, *(p for p, _ in t.work.shares)]
    return list(dict.fromkeys(people))


def _party_ids43(p: Person) -> str:
    ids = (_e("DPID", p.dpid) if p.dpid else "") + (_e("ISNI", p.isni) if p.isni else "")
    ids += _e("IpiNameNumber", p.ipi) if p.ipi else ""
    return f"<PartyId>{ids}</PartyId>" if ids else ""


def _recording43(n: int, t: DemoTrack, ref: dict[Person, str]) -> str:
    artists = [(t.artist, "MainArtist")] + ([(t.featured, "FeaturedArtist")] if t.featured else [])
    out = [
        f"<SoundRecording>{_e('ResourceReference', f'A{n}')}<Type>MusicalWorkSoundRecording</Type>"
        f"<SoundRecordingEdition><ResourceId>{_e('ISRC', t.isrc)}</ResourceId></SoundRecordingEdition>"
    ]
    out.append(f"<WorkId>{_e('ISWC', t.work.iswc)}</WorkId>" if t.work else "")
    out.append(_e("DisplayTitleText", t.title) + _e("DisplayArtistName", t.display))
    for i, (p, role) in enumerate(artists, 1):
        out.append(
            f'<DisplayArtist SequenceNumber="{i}">{_e("ArtistPartyReference", ref[p])}'
            f"{_e('DisplayArtistRole', role)}</DisplayArtist>"
        )
    crew = list(t.crew) + [(w, "Composer") for w in (t.work.writers if t.work else ())]
    for i, (p, role) in enumerate(crew, 1):
        out.append(
            f'<Contributor SequenceNumber="{i}">{_e("ContributorPartyReference", ref[p])}'
            f"{_e('Role', role)}</Contributor>"
        )
    for p, pct in t.master:
        out.append(
            f"<ResourceRightsController>{_e('RightsControllerPartyReference', ref[p])}"
            f"<RightsControlType>RightsController</RightsControlType>{_e('RightSharePercentage', pct)}"
            "</ResourceRightsController>"
        )
    for p, pct in t.work.shares if t.work else ():
        out.append(
            f"<WorkRightsController>{_e('RightsControllerPartyReference', ref[p])}"
            f"{_e('RightSharePercentage', pct)}</WorkRightsController>"
        )
    out.append(_e("Duration", _duration(t.seconds)) + "</SoundRecording>")
    return "".join(out)


def ern43(release: DemoRelease, sender: Sender, message_id: str) -> str:
    """One NewReleaseMessage (ERN 4.3) for one release."""
    people = _people(release)
    ref = {p: f"P{i}" for i, p in enumerate(people, 1)}
    parties = "".join(
        f"<Party>{_e('PartyReference', ref[p])}<PartyName>{_e('FullName', p.name)}</PartyName>{_party_ids43(p)}</Party>"
        for p in people
    )
    recordings = "".join(_recording43(n, t, ref) for n, t in enumerate(release.tracks, 1))
    items = "".join(
        f"<ResourceGroupContentItem>{_e('SequenceNumber', str(n))}"
        f"{_e('ReleaseResourceReference', f'A{n}')}</ResourceGroupContentItem>"
        for n in range(1, len(release.tracks) + 1)
    )
    rel = (
        f"<Release>{_e('ReleaseReference', 'R0')}{_e('ReleaseType', release.release_type)}"
        f"<ReleaseId>{_e('ICPN', release.upc)}</ReleaseId>{_e('DisplayTitleText', release.title)}"
        f"{_e('DisplayArtistName', release.artist.name)}{_e('ReleaseLabelReference', ref[release.label])}"
        f"{_e('ReleaseDate', release.released.isoformat())}<ResourceGroup>{items}</ResourceGroup></Release>"
    )
    deal = (
        f"<ReleaseDeal>{_e('DealReleaseReference', 'R0')}<Deal><DealTerms>{_territories(release)}"
        f"<ValidityPeriod>{_e('StartDate', release.released.isoformat())}</ValidityPeriod>"
        "<CommercialModelType>SubscriptionModel</CommercialModelType><UseType>OnDemandStream</UseType>"
        "<UseType>PermanentDownload</UseType></DealTerms></Deal></ReleaseDeal>"
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<ern:NewReleaseMessage xmlns:ern="http://ddex.net/xml/ern/43" '
        f'AvsVersionId="4" LanguageAndScriptCode="en">{_header(sender, message_id)}'
        f"<PartyList>{parties}</PartyList><ResourceList>{recordings}</ResourceList>"
        f"<ReleaseList>{rel}</ReleaseList><DealList>{deal}</DealList></ern:NewReleaseMessage>\n"
    )


def _party382(p: Person) -> str:
    ids = f'<PartyId Namespace="IPI">{escape(p.ipi)}</PartyId>' if p.ipi else ""
    ids += f'<PartyId IsISNI="true">{escape(p.isni)}</PartyId>' if p.isni else ""
    ids += f'<PartyId IsDPID="true">{escape(p.dpid)}</PartyId>' if p.dpid else ""
    return f"<PartyName>{_e('FullName', p.name)}</PartyName>{ids}"


def _work382(n: int, w: DemoWork) -> str:
    writers = "".join(
        f'<MusicalWorkContributor SequenceNumber="{i}">{_party382(p)}'
        "<MusicalWorkContributorRole>Composer</MusicalWorkContributorRole></MusicalWorkContributor>"
        for i, p in enumerate(w.writers, 1)
    )
    shares = "".join(
        f"<RightShare><RightsController>{_party382(p)}<RightsControllerRole>RightsController"
        f"</RightsControllerRole></RightsController>{_e('RightSharePercentage', pct)}</RightShare>"
        for p, pct in w.shares
    )
    return (
        f"<MusicalWork><MusicalWorkId>{_e('ISWC', w.iswc)}</MusicalWorkId>{_e('MusicalWorkReference', f'W{n}')}"
        f"<ReferenceTitle>{_e('TitleText', w.title)}</ReferenceTitle>{writers}{shares}</MusicalWork>"
    )


def _recording382(n: int, t: DemoTrack, label: Person) -> str:
    work = (
        (
            f"<ResourceMusicalWorkReferenceList><ResourceMusicalWorkReference>"
            f"{_e('ResourceMusicalWorkReference', f'W{n}')}</ResourceMusicalWorkReference>"
            "</ResourceMusicalWorkReferenceList>"
        )
        if t.work
        else ""
    )
    artists = [(t.artist, "MainArtist")] + ([(t.featured, "FeaturedArtist")] if t.featured else [])
    shown = "".join(
        f'<DisplayArtist SequenceNumber="{i}">{_party382(p)}{_e("ArtistRole", r)}</DisplayArtist>'
        for i, (p, r) in enumerate(artists, 1)
    )
    crew = "".join(
        f'<ResourceContributor SequenceNumber="{i}">{_party382(p)}'
        f"{_e('ResourceContributorRole', r)}</ResourceContributor>"
        for i, (p, r) in enumerate(t.crew, 1)
    )
    master = "".join(
        f"<RightsController>{_party382(p)}<RightsControllerRole>RightsController</RightsControllerRole>"
        f"{_e('RightSharePercentage', pct)}</RightsController>"
        for p, pct in t.master
    )
    return (
        f"<SoundRecording><SoundRecordingType>MusicalWorkSoundRecording</SoundRecordingType>"
        f"<SoundRecordingId>{_e('ISRC', t.isrc)}</SoundRecordingId>{_e('ResourceReference', f'A{n}')}"
        f"<ReferenceTitle>{_e('TitleText', t.title)}</ReferenceTitle>{work}{_e('Duration', _duration(t.seconds))}"
        f"<SoundRecordingDetailsByTerritory><TerritoryCode>Worldwide</TerritoryCode>"
        f'<Title TitleType="DisplayTitle">{_e("TitleText", t.title)}</Title>{shown}{crew}'
        f"{_e('DisplayArtistName', t.display)}{_e('LabelName', label.name)}{master}"
        "</SoundRecordingDetailsByTerritory></SoundRecording>"
    )


def ern382(release: DemoRelease, sender: Sender, message_id: str) -> str:
    """One NewReleaseMessage (ERN 3.8.2) for one release: parties inline, works in a WorkList."""
    works = "".join(_work382(n, t.work) for n, t in enumerate(release.tracks, 1) if t.work)
    recordings = "".join(_recording382(n, t, release.label) for n, t in enumerate(release.tracks, 1))
    refs = "".join(
        f'<ReleaseResourceReference ReleaseResourceType="PrimaryResource">A{n}</ReleaseResourceReference>'
        for n in range(1, len(release.tracks) + 1)
    )
    rel = (
        f'<Release IsMainRelease="true"><ReleaseId>{_e("ICPN", release.upc)}</ReleaseId>'
        f"{_e('ReleaseReference', 'R0')}<ReferenceTitle>{_e('TitleText', release.title)}</ReferenceTitle>"
        f"<ReleaseResourceReferenceList>{refs}</ReleaseResourceReferenceList>"
        f"{_e('ReleaseType', release.release_type)}<ReleaseDetailsByTerritory>{_territories(release)}"
        f"{_e('DisplayArtistName', release.artist.name)}{_e('LabelName', release.label.name)}"
        f'<Title TitleType="DisplayTitle">{_e("TitleText", release.title)}</Title>'
        f"{_e('ReleaseDate', release.released.isoformat())}</ReleaseDetailsByTerritory></Release>"
    )
    deal = (
        f"<ReleaseDeal>{_e('DealReleaseReference', 'R0')}<Deal><DealTerms>"
        "<CommercialModelType>SubscriptionModel</CommercialModelType><Usage><UseType>OnDemandStream</UseType>"
        f"</Usage>{_territories(release)}<ValidityPeriod>{_e('StartDate', release.released.isoformat())}"
        "</ValidityPeriod></DealTerms></Deal></ReleaseDeal>"
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<ern:NewReleaseMessage xmlns:ern="http://ddex.net/xml/ern/382" '
        f'MessageSchemaVersionId={quoteattr("ern/382")} LanguageAndScriptCode="en">'
        f"{_header(sender, message_id)}<UpdateIndicator>OriginalMessage</UpdateIndicator>"
        f"<WorkList>{works}</WorkList><ResourceList>{recordings}</ResourceList>"
        f"<ReleaseList>{rel}</ReleaseList><DealList>{deal}</DealList></ern:NewReleaseMessage>\n"
    )


CSV_HEADER = (
    "upc",
    "release_title",
    "release_type",
    "release_date",
    "label",
    "release_artist",
    "track_number",
    "isrc",
    "track_title",
    "track_artist",
    "duration",
    "featured_artists",
    "producers",
    "iswc",
    "writers",
    "master_split",
    "territories",
)


def catalogue_csv(releases: list[DemoRelease]) -> str:
    """The catalogue CSV template (docs/catalogue-csv.md): one row per track."""
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for r in releases:
        for n, t in enumerate(r.tracks, 1):
            pub = dict(t.work.shares) if t.work else {}
            writers = ";".join(f"{w.name}:{w.ipi}:{pub[w]}" for w in t.work.writers) if t.work else ""
            producers = ";".join(p.name for p, role in t.crew if role == "Producer")
            writer.writerow(
                [
                    r.upc,
                    r.title,
                    r.release_type,
                    r.released.isoformat(),
                    r.label.name,
                    r.artist.name,
                    n,
                    t.isrc,
                    t.title,
                    t.display,
                    t.seconds,
                    t.featured.name if t.featured else "",
                    producers,
                    t.work.iswc if t.work else "",
                    writers,
                    ";".join(f"{p.name}:{pct}" for p, pct in t.master),
                    " ".join(r.territories),
                ]
            )
    return out.getvalue()
