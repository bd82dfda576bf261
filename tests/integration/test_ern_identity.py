"""Releases and recordings found by any id a sender uses (ICPN, GRid, proprietary), and review, not rejection."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ledger.application import RoyaltyLedger
from ledger.domain.alias import IdentifierAlias
from ledger.domain.release import Release
from ledger.ingest.importer import ImportSummary, import_paths
from ledger.review import review_queue
from ledger.store.config import StoreConfig

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ern"
NOW = datetime(2025, 9, 1, tzinfo=UTC)
GRID = "A1-2425G-ABC1234002-M"
PROPRIETARY = '<ProprietaryId Namespace="DPID:PADPIDA2014120301">REL-LIGHTHOUSE</ProprietaryId>'


@pytest.fixture
def app(store_config: StoreConfig) -> Iterator[RoyaltyLedger]:
    ledger = RoyaltyLedger(store_config, clock=lambda: NOW)
    yield ledger
    ledger.close()


def single(tmp_path: Path, name: str, *edits: tuple[str, str]) -> Path:
    text = (FIXTURES / "ern43_single.xml").read_text()
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text)
    return path


def message_id(n: int) -> tuple[str, str]:
    return ("<MessageId>MSG-43-SINGLE-001</MessageId>", f"<MessageId>MSG-43-SINGLE-{n:03d}</MessageId>")


def load(app: RoyaltyLedger, *paths: Path) -> ImportSummary:
    return import_paths(app, list(paths), "test")


def test_a_release_known_by_grid_only_is_found_again_by_its_proprietary_id_and_then_its_icpn(
    app: RoyaltyLedger, tmp_path: Path
) -> None:
    by_grid = single(
        tmp_path,
        "1.xml",
        (
            "<ReleaseId><ICPN>5012345678900</ICPN></ReleaseId>",
            f"<ReleaseId><GRid>{GRID}</GRid>{PROPRIETARY}</ReleaseId>",
        ),
    )
    first = load(app, by_grid)
    assert [(i.upc, i.result) for i in first.items] == [("GRID:A12425GABC1234002M", "accepted")]
    release = app.get_release("GRID:A12425GABC1234002M")
    assert release.identifiers == ["DPID:PADPIDA2014120301:REL-LIGHTHOUSE", "GRID:A12425GABC1234002M"]
    by_proprietary = single(
        tmp_path,
        "2.xml",
        message_id(2),
        ("<ReleaseId><ICPN>5012345678900</ICPN></ReleaseId>", f"<ReleaseId>{PROPRIETARY}</ReleaseId>"),
        (
            "<DisplayTitleText>Lighthouse</DisplayTitleText>\n      <DisplayTitle>",
            "<DisplayTitleText>Lighthouse II</DisplayTitleText>\n      <DisplayTitle>",
        ),
    )
    second = load(app, by_proprietary)
    assert [i.result for i in second.items] == ["updated"]
    with_icpn = single(
        tmp_path,
        "3.xml",
        message_id(3),
        (
            "<ReleaseId><ICPN>5012345678900</ICPN></ReleaseId>",
            f"<ReleaseId><ICPN>5012345678900</ICPN><GRid>{GRID}</GRid></ReleaseId>",
        ),
    )
    third = load(app, with_icpn)
    assert [i.result for i in third.items] == ["updated"]  # the ICPN is added as one more id
    release = app.get_release("GRID:A12425GABC1234002M")
    assert release.identifiers == [
        "5012345678900",
        "DPID:PADPIDA2014120301:REL-LIGHTHOUSE",
        "GRID:A12425GABC1234002M",
    ]
    releases = app.aggregate_ids_with(Release.Delivered)  # type: ignore[attr-defined]
    assert len(releases) == 1
    purge = tmp_path / "purge.xml"
    purge.write_text(
        (FIXTURES / "ern43_purge.xml").read_text().replace("<ICPN>5012345678900</ICPN>", f"<GRid>{GRID}</GRid>")
    )
    assert [i.result for i in load(app, purge).items] == ["updated"]
    assert app.get_release("GRID:A12425GABC1234002M").availability[-1]["action"] == "takedown"


def test_a_recording_named_only_by_a_proprietary_id_needs_an_earlier_delivery_with_its_isrc(
    app: RoyaltyLedger, tmp_path: Path
) -> None:
    unknown = load(app, FIXTURES / "malformed_missing_isrc.xml")
    (reason,) = unknown.items[0].reasons
    assert reason.startswith("not imported: ResourceList/SoundRecording[1] (A1): no ISRC")
    assert "DPID:PADPIDA2014120301:TRK-1" in reason
    with_both = single(
        tmp_path,
        "both.xml",
        message_id(5),
        (
            "<ResourceId><ISRC>GBHRB2500001</ISRC></ResourceId>",
            '<ResourceId><ISRC>GBHRB2500001</ISRC><ProprietaryId Namespace="DPID:PADPIDA2014120301">'
            "TRK-1</ProprietaryId></ResourceId>",
        ),
    )
    assert [i.result for i in load(app, with_both).items] == ["accepted"]
    aliases = app.aggregate_ids_with(IdentifierAlias.Registered)  # type: ignore[attr-defined]
    assert len(aliases) == 1
    head = app.head_position()
    again = load(app, FIXTURES / "malformed_missing_isrc.xml")
    assert [(i.result, i.reasons) for i in again.items] == [("unchanged", ())] and app.head_position() == head


def test_a_release_without_any_date_waits_in_review_with_the_element_path(app: RoyaltyLedger, tmp_path: Path) -> None:
    app.upsert_party(
        "northern-lights-distribution",
        "Northern Lights Distribution",
        ["distributor"],
        "t",
        {"dpid": "PADPIDA2014120301"},
    )
    app.set_party_verification("northern-lights-distribution", "verified", "member", "t")
    undated = single(
        tmp_path,
        "undated.xml",
        ("<ReleaseDate>2025-02-14</ReleaseDate>", ""),
        ("<ValidityPeriod><StartDate>2025-02-14</StartDate></ValidityPeriod>", ""),
    )
    summary = load(app, undated)
    assert [(i.result, i.status) for i in summary.items] == [("accepted", "in_review")]
    (waiting,) = review_queue(app)
    assert waiting.release_date is None
    (reason,) = waiting.review_reasons
    assert reason.startswith("ReleaseList/Release[1]: no release date")
    dated = single(tmp_path, "dated.xml", message_id(2))
    assert [(i.result, i.status) for i in load(app, dated).items] == [("updated", "live")]
    assert review_queue(app) == []
    assert str(app.get_release("5012345678900").release_date) == "2025-02-14"
