"""Every version's fixtures imported for real: album, single, mix, update, takedown, purge, review; twice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ledger.application import RoyaltyLedger
from ledger.ingest.importer import import_paths
from ledger.review import review_queue
from ledger.store.config import StoreConfig

VERSIONS_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "ern" / "versions"
KINDS = ("album", "single", "mix", "update", "takedown", "purge", "review")
VERSIONS = ("38", "381", "382", "383", "41", "411", "42", "43")
NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def app(store_config: StoreConfig) -> Iterator[RoyaltyLedger]:
    ledger = RoyaltyLedger(store_config, clock=lambda: NOW)
    yield ledger
    ledger.close()


def files() -> list[Path]:
    return [VERSIONS_DIR / f"ern{v}_{kind}.xml" for v in VERSIONS for kind in KINDS]


def test_every_version_imports_and_a_second_import_changes_nothing(app: RoyaltyLedger) -> None:
    app.upsert_party("meridian-digital", "Meridian Digital", ["distributor"], "t", {"dpid": "PADPIDA2023061501M"})
    app.set_party_verification("meridian-digital", "verified", "contract", "t")
    first = import_paths(app, files(), "test")
    results = [(Path(i.source).stem, i.result) for i in first.items]
    assert [r for r in results if r[1] == "rejected"] == []
    expected = []
    for v in VERSIONS:
        expected += [(f"ern{v}_album", "accepted"), (f"ern{v}_single", "accepted"), (f"ern{v}_mix", "accepted")]
        expected += [(f"ern{v}_update", "updated")] + [(f"ern{v}_takedown", "updated")] * 2
        expected += [(f"ern{v}_purge", "updated"), (f"ern{v}_review", "accepted")]
    assert results == expected
    for index, v in enumerate(VERSIONS):
        album = app.get_release(f"5060{index:02d}{1:06d}" + _check(f"5060{index:02d}{1:06d}"))
        assert album.title == "Harbour Lights (Deluxe)" and album.status == "live"
        assert [d["commercial_models"] for d in album.deals] == [
            ["SubscriptionModel", "AdvertisementSupportedModel"],
            ["PayAsYouGoModel"],
        ]
        after = datetime(2025, 9, 2, tzinfo=UTC)
        assert album.unavailable_reason("FR", after) is not None, v  # the worldwide deal ended
        assert album.unavailable_reason("FR", datetime(2025, 8, 31, 23, tzinfo=UTC)) is None, v
    mixes = [r for r in (app.get_release(k) for k in _mix_keys()) if r is not None]
    assert {m.release_type for m in mixes} == {"dj_mix", "classical"}
    assert all(m.availability[-1]["reason"].startswith("purge") for m in mixes)
    waiting = review_queue(app)
    assert len(waiting) == len(VERSIONS)
    assert all(
        [r.split(":")[0] for r in rel.review_reasons] == ["ReleaseList/Release[1]"] * 2 and rel.release_date is None
        for rel in waiting
    )
    head = app.head_position()
    again = import_paths(app, files(), "test")
    assert app.head_position() == head
    assert {i.result for i in again.items} == {"unchanged"}


def _check(body: str) -> str:
    from stdnum import ean

    return str(ean.calc_check_digit(body))


def _mix_keys() -> list[str]:
    from stdnum.iso7064 import mod_37_36

    keys = []
    for index in range(len(VERSIONS)):
        body = f"A12425GMRD{index:02d}00001"
        keys.append(f"GRID:{body}{mod_37_36.calc_check_digit(body)}")
    return keys
