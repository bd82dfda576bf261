"""Write tests/fixtures/ern/versions/: our own ERN fixtures for every supported version.

One set per version (3.8, 3.8.1, 3.8.2, 3.8.3, 4.1, 4.1.1, 4.2, 4.3), in the shapes senders use:
  album     ICPN + proprietary id, ReleaseType Album, ReleaseDate, a worldwide streaming deal and a
            download deal in GB/IE, a WorkList (3.8) or WorkId + rights controllers (4.x)
  single    ICPN, two ReleaseType elements (Single, SingleResourceRelease), only an original
            release date (OriginalReleaseDate / GlobalOriginalReleaseDate), worldwide except DE
  mix       4.x: a DjMix named by GRid + proprietary id (no ICPN), no release date element: the
            date is the deal's StartDate. 3.8.x: the classical variant, ClassicalAlbum plus a
            UserDefined type, named by GRid + proprietary id, dated the same way
  update    the album again under a new MessageId (3.8: UpdateIndicator = UpdateMessage) with a
            corrected title
  takedown  the album's deals now end (ValidityPeriod EndDate): a takedown where they applied
  purge     a PurgeReleaseMessage naming the mix by its GRid only
  review    a single with no release date and no deal start, and no label: imported, but waiting
            in review with those reasons
Each version has its own identifiers (UPC, GRid, ISRC), so the sets can be imported together.
Run: .venv/bin/python tools/gen_ern_fixtures.py  (tests/unit/test_ern_versions.py checks the files
are what this script writes).
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

from stdnum import ean
from stdnum.iso7064 import mod_37_36

from ledger.domain.identifiers import iswc_check_digit

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "ern" / "versions"
SENDER = ("PADPIDA2023061501M", "Meridian Digital")
LABEL = "Meridian Records"
VERSIONS = {
    "3.8": "http://ddex.net/xml/ern/38",
    "3.8.1": "http://ddex.net/xml/ern/381",
    "3.8.2": "http://ddex.net/xml/ern/382",
    "3.8.3": "http://ddex.net/xml/ern/383",
    "4.1": "http://ddex.net/xml/ern/41",
    "4.1.1": "http://ddex.net/xml/ern/411",
    "4.2": "http://ddex.net/xml/ern/42",
    "4.3": "http://ddex.net/xml/ern/43",
}
KINDS = ("album", "single", "mix", "update", "takedown", "purge", "review")


def _iswc(number: int) -> str:
    digits = f"90000{number:04d}"
    return f"T-{digits[:3]}.{digits[3:6]}.{digits[6:]}-{iswc_check_digit(digits)}"


TRACKS = (
    ("Harbour Lights", "PT3M41S", _iswc(1)),
    ("Northbound", "PT4M02S", _iswc(2)),
    ("Low Tide", "PT5M17S", _iswc(3)),
)


def _ids(index: int) -> dict[str, str]:
    def upc(n: int) -> str:
        body = f"5060{index:02d}{n:06d}"
        return body + ean.calc_check_digit(body)

    def grid_id(n: int) -> str:
        body = f"A12425GMRD{index:02d}{n:05d}"
        return body + mod_37_36.calc_check_digit(body)

    return {
        "album_upc": upc(1),
        "single_upc": upc(2),
        "review_upc": upc(3),
        "mix_grid": grid_id(1),
        "isrc": f"GBMRD25{index}",
    }


def _e(tag: str, value: object, attrs: str = "") -> str:
    return f"<{tag}{attrs}>{escape(str(value))}</{tag}>"


def _header(message_id: str, created: str, linked: str = "") -> str:
    return (
        "  <MessageHeader>\n"
        f"    {_e('MessageThreadId', message_id.rsplit('-', 1)[0])}\n"
        f"    {_e('MessageId', message_id)}\n"
        f"    <MessageSender>{_e('PartyId', SENDER[0])}<PartyName>{_e('FullName', SENDER[1])}</PartyName>"
        "</MessageSender>\n"
        "    <MessageRecipient><PartyId>PADPIDA2025000001C</PartyId>"
        "<PartyName><FullName>Co-op Music Platform</FullName></PartyName></MessageRecipient>\n"
        f"    {_e('MessageCreatedDateTime', created)}\n"
        "    <MessageControlType>LiveMessage</MessageControlType>\n"
        "  </MessageHeader>\n"
    )


class Release:
    """What one fixture delivers, written by the 3.8 or the 4.x writer."""

    def __init__(self, version: str, kind: str) -> None:
        index = list(VERSIONS).index(version)
        ids = _ids(index)
        self.version, self.kind = version, kind
        self.v4 = version.startswith("4")
        self.isrc_base = ids["isrc"]
        self.upc = ""
        self.grid = ""
        self.proprietary = ""
        self.types: list[tuple[str, str]] = [("Album", "")]
        self.title = "Harbour Lights"
        self.release_date = ""
        self.original_date = ""
        self.label = True
        self.tracks = list(range(1, 4))
        self.deals: list[dict[str, object]] = []
        slug = version.replace(".", "")
        self.message_id = f"MRD-{slug}-{kind.upper()}-1"
        self.created = f"2025-0{1 + index % 8}-10T09:00:00Z"
        self.update = kind in ("update", "takedown")
        if kind in ("album", "update", "takedown"):
            self.upc, self.proprietary = ids["album_upc"], f"MRD-ALB-{slug}"
            self.release_date = "2025-03-14"
            ends = "2025-08-31" if kind == "takedown" else ""
            self.deals = [
                {
                    "territories": ["Worldwide"],
                    "models": ["SubscriptionModel", "AdvertisementSupportedModel"],
                    "uses": ["OnDemandStream", "NonInteractiveStream"],
                    "start": "2025-03-14",
                    "end": ends,
                },
                {
                    "territories": ["GB", "IE"],
                    "models": ["PayAsYouGoModel"],
                    "uses": ["PermanentDownload"],
                    "start": "2025-03-14",
                    "end": ends,
                },
            ]
            if kind == "update":
                self.title = "Harbour Lights (Deluxe)"
        elif kind in ("single", "review"):
            self.upc = ids["single_upc"] if kind == "single" else ids["review_upc"]
            self.types = [("Single", ""), ("SingleResourceRelease", "")]
            self.title = "Northbound"
            self.tracks = [2] if kind == "single" else [3]
            self.original_date = "2025-02-07" if kind == "single" else ""
            deal = {
                "territories": ["Worldwide"],
                "excluded": ["DE"],
                "models": ["SubscriptionModel"],
                "uses": ["OnDemandStream"],
                "start": "2025-02-07" if kind == "single" else "",
                "end": "",
            }
            self.deals = [deal]
            self.label = kind == "single"
        elif kind == "mix":
            self.grid, self.proprietary = ids["mix_grid"], f"MRD-MIX-{slug}"
            if self.v4:
                self.types = [("DjMix", "")]
                self.title = "Night Ferry (DJ Mix)"
            else:
                self.types = [("ClassicalAlbum", ""), ("UserDefined", "ChamberRecital")]
                self.title = "Harbour Suite in Three Movements"
            self.deals = [
                {
                    "territories": ["Worldwide"],
                    "models": ["SubscriptionModel"],
                    "uses": ["OnDemandStream"],
                    "start": "2025-04-04",
                    "end": "",
                }
            ]

    def isrc(self, track: int) -> str:
        return f"{self.isrc_base}{track:04d}"


# ---------------------------------------------------------------------------------------- ERN 4.x
def _v4_parties(rel: Release) -> str:
    parties = [
        ("PArtist", "Nora Vale", "<PartyId><ISNI>0000000121032683</ISNI></PartyId>"),
        ("PLabel", LABEL, "<PartyId><DPID>PADPIDA2023061502L</DPID></PartyId>"),
        ("PWriter", "Owen Hale", "<PartyId><IpiNameNumber>00451234585</IpiNameNumber></PartyId>"),
        ("PProducer", "Sol Ferreira", ""),
    ]
    rows = [
        f"    <Party>{_e('PartyReference', ref)}<PartyName>{_e('FullName', name)}</PartyName>{ids}</Party>"
        for ref, name, ids in parties
    ]
    return "  <PartyList>\n" + "\n".join(rows) + "\n  </PartyList>\n"


def _v4_recording(rel: Release, track: int) -> str:
    title, duration, iswc = TRACKS[track - 1]
    isrc = _e("ISRC", rel.isrc(track))
    proprietary = _e("ProprietaryId", f"MRD-TRK-{rel.isrc(track)}", f' Namespace="DPID:{SENDER[0]}"')
    # 4.3 moved the ISRC into SoundRecordingEdition; 4.1 and 4.2 keep it in ResourceId.
    if rel.version.startswith("4.3"):
        ids = f"<SoundRecordingEdition><ResourceId>{isrc}{proprietary}</ResourceId></SoundRecordingEdition>"
    else:
        ids = f"<ResourceId>{isrc}{proprietary}</ResourceId>"
    return (
        "    <SoundRecording>\n"
        f"      {_e('ResourceReference', f'A{track}')}\n"
        "      <Type>MusicalWorkSoundRecording</Type>\n"
        f"      {ids}\n"
        f"      <WorkId>{_e('ISWC', iswc)}</WorkId>\n"
        f"      {_e('DisplayTitleText', title)}\n"
        f"      <DisplayTitle>{_e('TitleText', title)}</DisplayTitle>\n"
        "      <DisplayArtistName>Nora Vale</DisplayArtistName>\n"
        '      <DisplayArtist SequenceNumber="1"><ArtistPartyReference>PArtist</ArtistPartyReference>'
        "<DisplayArtistRole>MainArtist</DisplayArtistRole></DisplayArtist>\n"
        '      <Contributor SequenceNumber="1"><ContributorPartyReference>PWriter</ContributorPartyReference>'
        "<Role>ComposerLyricist</Role></Contributor>\n"
        '      <Contributor SequenceNumber="2"><ContributorPartyReference>PProducer</ContributorPartyReference>'
        "<Role>Producer</Role></Contributor>\n"
        "      <ResourceRightsController><RightsControllerPartyReference>PLabel</RightsControllerPartyReference>"
        "<RightsControlType>RightsController</RightsControlType><RightSharePercentage>80</RightSharePercentage>"
        "</ResourceRightsController>\n"
        "      <ResourceRightsController><RightsControllerPartyReference>PArtist</RightsControllerPartyReference>"
        "<RightsControlType>RightsController</RightsControlType><RightSharePercentage>20</RightSharePercentage>"
        "</ResourceRightsController>\n"
        "      <WorkRightsController><RightsControllerPartyReference>PWriter</RightsControllerPartyReference>"
        "<RightSharePercentage>100</RightSharePercentage></WorkRightsController>\n"
        f"      {_e('Duration', duration)}\n"
        "    </SoundRecording>\n"
    )


def _release_id_xml(rel: Release) -> str:
    parts = []
    if rel.grid:
        parts.append(_e("GRid", rel.grid))
    if rel.upc:
        parts.append(_e("ICPN", rel.upc))
    if rel.proprietary:
        parts.append(_e("ProprietaryId", rel.proprietary, f' Namespace="DPID:{SENDER[0]}"'))
    return f"<ReleaseId>{''.join(parts)}</ReleaseId>"


def _types_xml(rel: Release) -> str:
    return "".join(
        _e("ReleaseType", value, f' UserDefinedValue="{escape(extra)}"' if extra else "") for value, extra in rel.types
    )


def _group(rel: Release, indent: str) -> str:
    items = "".join(
        f"{indent}  <ResourceGroupContentItem>{_e('SequenceNumber', n)}"
        f"{_e('ReleaseResourceReference', f'A{track}')}</ResourceGroupContentItem>\n"
        for n, track in enumerate(rel.tracks, start=1)
    )
    return f"{indent}<ResourceGroup>\n{items}{indent}</ResourceGroup>\n"


def _v4_release(rel: Release) -> str:
    dates = ""
    if rel.release_date:
        dates += f"      {_e('ReleaseDate', rel.release_date)}\n"
    if rel.original_date:
        dates += f"      {_e('OriginalReleaseDate', rel.original_date)}\n"
    label = "      <ReleaseLabelReference>PLabel</ReleaseLabelReference>\n" if rel.label else ""
    return (
        "  <ReleaseList>\n    <Release>\n"
        "      <ReleaseReference>R0</ReleaseReference>\n"
        f"      {_types_xml(rel)}\n"
        f"      {_release_id_xml(rel)}\n"
        f"      {_e('DisplayTitleText', rel.title)}\n"
        f"      <DisplayTitle>{_e('TitleText', rel.title)}</DisplayTitle>\n"
        "      <DisplayArtistName>Nora Vale</DisplayArtistName>\n"
        '      <DisplayArtist SequenceNumber="1"><ArtistPartyReference>PArtist</ArtistPartyReference>'
        "<DisplayArtistRole>MainArtist</DisplayArtistRole></DisplayArtist>\n"
        f"{label}"
        "      <Genre><GenreText>Electronic</GenreText></Genre>\n"
        f"{dates}"
        "      <ParentalWarningType>NotExplicit</ParentalWarningType>\n"
        f"{_group(rel, '      ')}"
        "    </Release>\n  </ReleaseList>\n"
    )


def _deal_terms(deal: dict[str, object], v4: bool) -> str:
    territories = "".join(_e("TerritoryCode", t) for t in deal["territories"])  # type: ignore[attr-defined]
    territories += "".join(_e("ExcludedTerritoryCode", t) for t in deal.get("excluded", []))  # type: ignore[attr-defined]
    models = "".join(_e("CommercialModelType", m) for m in deal["models"])  # type: ignore[attr-defined]
    uses = "".join(_e("UseType", u) for u in deal["uses"])  # type: ignore[attr-defined]
    if not v4:
        uses = f"<Usage>{uses}</Usage>"
    period = ""
    if deal["start"] or deal["end"]:
        start = _e("StartDate", deal["start"]) if deal["start"] else ""
        end = _e("EndDate", deal["end"]) if deal["end"] else ""
        period = f"<ValidityPeriod>{start}{end}</ValidityPeriod>"
    body = f"{territories}{period}{models}{uses}" if v4 else f"{models}{uses}{territories}{period}"
    return f"      <Deal><DealTerms>{body}</DealTerms></Deal>\n"


def _deals(rel: Release) -> str:
    deals = "".join(_deal_terms(d, rel.v4) for d in rel.deals)
    return (
        "  <DealList>\n    <ReleaseDeal>\n      <DealReleaseReference>R0</DealReleaseReference>\n"
        f"{deals}    </ReleaseDeal>\n  </DealList>\n"
    )


def _v4(rel: Release, ns: str) -> str:
    recordings = "".join(_v4_recording(rel, t) for t in rel.tracks)
    return (
        f'<ern:NewReleaseMessage xmlns:ern="{ns}" LanguageAndScriptCode="en">\n'
        f"{_header(rel.message_id, rel.created)}"
        f"{_v4_parties(rel)}"
        f"  <ResourceList>\n{recordings}  </ResourceList>\n"
        f"{_v4_release(rel)}"
        f"{_deals(rel)}"
        "</ern:NewReleaseMessage>\n"
    )


# ---------------------------------------------------------------------------------------- ERN 3.8
def _v38_party(tag: str, name: str, role_tag: str, role: str, extra: str = "") -> str:
    return f"<{tag}><PartyName>{_e('FullName', name)}</PartyName>{extra}{_e(role_tag, role)}</{tag}>"


def _v38_work(rel: Release, track: int) -> str:
    title, _duration, iswc = TRACKS[track - 1]
    writer = '<PartyId Namespace="IPI">00451234585</PartyId>'
    return (
        "    <MusicalWork>\n"
        f"      <MusicalWorkId>{_e('ISWC', iswc)}</MusicalWorkId>\n"
        f"      {_e('MusicalWorkReference', f'W{track}')}\n"
        f"      <ReferenceTitle>{_e('TitleText', title)}</ReferenceTitle>\n"
        f"      {_v38_party('MusicalWorkContributor', 'Owen Hale', 'MusicalWorkContributorRole', 'ComposerLyricist', writer)}\n"  # noqa: E501
        "      <RightShare><RightsController><PartyName><FullName>Owen Hale</FullName></PartyName>"
        "<RightsControllerRole>RightsController</RightsControllerRole></RightsController>"
        "<RightSharePercentage>100</RightSharePercentage></RightShare>\n"
        "    </MusicalWork>\n"
    )


def _v38_recording(rel: Release, track: int) -> str:
    title, duration, _iswc = TRACKS[track - 1]
    proprietary = _e("ProprietaryId", f"MRD-TRK-{rel.isrc(track)}", f' Namespace="DPID:{SENDER[0]}"')
    controller = (
        "<RightsController><PartyName><FullName>{name}</FullName></PartyName>"
        "<RightsControllerRole>RightsController</RightsControllerRole>"
        "<RightSharePercentage>{pct}</RightSharePercentage></RightsController>"
    )
    return (
        "    <SoundRecording>\n"
        "      <SoundRecordingType>MusicalWorkSoundRecording</SoundRecordingType>\n"
        f"      <SoundRecordingId>{_e('ISRC', rel.isrc(track))}{proprietary}</SoundRecordingId>\n"
        f"      {_e('ResourceReference', f'A{track}')}\n"
        f"      <ReferenceTitle>{_e('TitleText', title)}</ReferenceTitle>\n"
        "      <ResourceMusicalWorkReferenceList><ResourceMusicalWorkReference>"
        f"{_e('ResourceMusicalWorkReference', f'W{track}')}"
        "</ResourceMusicalWorkReference></ResourceMusicalWorkReferenceList>\n"
        f"      {_e('Duration', duration)}\n"
        "      <SoundRecordingDetailsByTerritory>\n"
        "        <TerritoryCode>Worldwide</TerritoryCode>\n"
        f'        <Title TitleType="DisplayTitle">{_e("TitleText", title)}</Title>\n'
        f"        {_v38_party('DisplayArtist', 'Nora Vale', 'ArtistRole', 'MainArtist')}\n"
        f"        {_v38_party('ResourceContributor', 'Sol Ferreira', 'ResourceContributorRole', 'Producer')}\n"
        "        <DisplayArtistName>Nora Vale</DisplayArtistName>\n"
        f"        {_e('LabelName', LABEL)}\n"
        f"        {controller.format(name=LABEL, pct=80)}\n"
        f"        {controller.format(name='Nora Vale', pct=20)}\n"
        "      </SoundRecordingDetailsByTerritory>\n"
        "    </SoundRecording>\n"
    )


def _v38_release(rel: Release) -> str:
    dates = f"        {_e('ReleaseDate', rel.release_date)}\n" if rel.release_date else ""
    global_dates = ""
    if rel.original_date:
        global_dates = f"      {_e('GlobalOriginalReleaseDate', rel.original_date)}\n"
    label = f"        {_e('LabelName', LABEL)}\n" if rel.label else ""
    refs = "".join(
        _e("ReleaseResourceReference", f"A{t}", ' ReleaseResourceType="PrimaryResource"') for t in rel.tracks
    )
    return (
        '  <ReleaseList>\n    <Release IsMainRelease="true">\n'
        f"      {_release_id_xml(rel)}\n"
        "      <ReleaseReference>R0</ReleaseReference>\n"
        f"      <ReferenceTitle>{_e('TitleText', rel.title)}</ReferenceTitle>\n"
        f"      <ReleaseResourceReferenceList>{refs}</ReleaseResourceReferenceList>\n"
        f"      {_types_xml(rel)}\n"
        "      <ReleaseDetailsByTerritory>\n"
        "        <TerritoryCode>Worldwide</TerritoryCode>\n"
        "        <DisplayArtistName>Nora Vale</DisplayArtistName>\n"
        f"{label}"
        f'        <Title TitleType="DisplayTitle">{_e("TitleText", rel.title)}</Title>\n'
        f"        {_v38_party('DisplayArtist', 'Nora Vale', 'ArtistRole', 'MainArtist')}\n"
        f"{_group(rel, '        ')}"
        "        <Genre><GenreText>Electronic</GenreText></Genre>\n"
        f"{dates}"
        "      </ReleaseDetailsByTerritory>\n"
        f"{global_dates}"
        "    </Release>\n  </ReleaseList>\n"
    )


def _v38(rel: Release, ns: str) -> str:
    indicator = "UpdateMessage" if rel.update else "OriginalMessage"
    works = "".join(_v38_work(rel, t) for t in rel.tracks)
    recordings = "".join(_v38_recording(rel, t) for t in rel.tracks)
    schema = "ern/" + ns.rsplit("/", 1)[1]
    return (
        f'<ern:NewReleaseMessage xmlns:ern="{ns}" MessageSchemaVersionId="{schema}" LanguageAndScriptCode="en">\n'
        f"{_header(rel.message_id, rel.created)}"
        f"  {_e('UpdateIndicator', indicator)}\n"
        f"  <WorkList>\n{works}  </WorkList>\n"
        f"  <ResourceList>\n{recordings}  </ResourceList>\n"
        f"{_v38_release(rel)}"
        f"{_deals(rel)}"
        "</ern:NewReleaseMessage>\n"
    )


def _purge(version: str, ns: str) -> str:
    rel = Release(version, "mix")
    purge_id = f"MRD-{version.replace('.', '')}-PURGE-1"
    return (
        f'<ern:PurgeReleaseMessage xmlns:ern="{ns}" LanguageAndScriptCode="en">\n'
        f"{_header(purge_id, '2025-10-01T00:00:00Z')}"
        f"  <PurgedRelease><ReleaseId>{_e('GRid', rel.grid)}</ReleaseId>"
        f"<Title><TitleText>{escape(rel.title)}</TitleText></Title></PurgedRelease>\n"
        "</ern:PurgeReleaseMessage>\n"
    )


COMMENTS = {
    "album": "An album of three tracks: ICPN + proprietary id, ReleaseDate, a streaming deal worldwide "
    "and a download deal in GB/IE.",
    "single": "A single: two ReleaseType values, only an original release date, available worldwide except DE.",
    "mix": "Named by GRid + proprietary id only (no ICPN), no release date element: the date is the deal's StartDate.",
    "update": "The album again under a new MessageId with a corrected title.",
    "takedown": "The album's deals now end on 2025-08-31: a takedown where they applied, from 2025-09-01.",
    "purge": "A PurgeReleaseMessage naming the mix by its GRid only.",
    "review": "A single with no release date, no deal start and no label: imported, waiting in review.",
}


def fixture(version: str, kind: str) -> str:
    ns = VERSIONS[version]
    if kind == "purge":
        body = _purge(version, ns)
    else:
        rel = Release(version, kind)
        if kind in ("update", "takedown"):
            rel.message_id = rel.message_id.rsplit("-", 1)[0] + "-2"
        body = _v4(rel, ns) if rel.v4 else _v38(rel, ns)
    comment = f"<!-- ERN {version}, written for royalty-ledger's tests: {COMMENTS[kind]} -->\n"
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + comment + body


def fixtures() -> dict[str, str]:
    return {
        f"ern{version.replace('.', '')}_{kind}.xml": fixture(version, kind) for version in VERSIONS for kind in KINDS
    }


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, text in fixtures().items():
        (OUT / name).write_text(text)
    print(f"wrote {len(fixtures())} fixtures to {OUT}")


if __name__ == "__main__":
    main()
