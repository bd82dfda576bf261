"""`royalty profile` and `royalty pricing release|release-set` as an operator types them: the same
checks as the API and the dashboard, --json reads, an unknown party or release a non-zero exit."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from ledger.application import RoyaltyLedger
from ledger.store.config import StoreConfig
from ledger.usage.pricing_commands import demo_pricing
from tests.e2e.cli_runner import royalty_here
from tests.e2e.test_api_content import PNG

UPC = "5012345678900"
ISRC = "GBAYE2600001"


@pytest.fixture
def store(sqlite_config: StoreConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StoreConfig:
    monkeypatch.setenv("ROYALTY_MEDIA_BLOB_DIR", str(tmp_path / "blobs"))
    app = RoyaltyLedger(sqlite_config)
    try:
        app.upsert_party("aria", "Aria", ["artist"], "test")
        app.upsert_recording(ISRC, "Song", "Aria", 180_000, "test", credits=[{"party": "aria", "role": "main_artist"}])
        app.deliver_release(UPC, "Album", [ISRC], date(2026, 1, 1), "test", label_key="aria")
        app.set_pricing(demo_pricing(), "test", "test")
    finally:
        app.close()
    return sqlite_config


def _json(config: StoreConfig, *args: str) -> dict:
    result = royalty_here(config, *args, "--json")
    assert result.returncode == 0, result.stdout
    return json.loads(result.stdout)


def test_profile_set_show_and_images(store: StoreConfig, tmp_path: Path) -> None:
    done = _json(store, "profile", "set", "aria", "--biography", "Aria sings.", "--link", "Site=https://aria.example/")
    assert done["changed"] is True and done["links"] == [{"label": "Site", "url": "https://aria.example/"}]
    image = tmp_path / "press.png"
    image.write_bytes(PNG)
    added = _json(store, "profile", "add-image", "aria", str(image), "--caption", "Portrait")
    assert added["images"][0]["content_type"] == "image/png"
    shown = _json(store, "profile", "show", "aria")
    assert shown["biography"] == "Aria sings." and len(shown["images"]) == 1
    removed = _json(store, "profile", "remove-image", "aria", added["sha256"])
    assert removed["images"] == []
    text = tmp_path / "note.txt"
    text.write_text("not an image")
    for args, needle in (
        (("profile", "set", "aria", "--link", "Bad=javascript:alert(1)"), "http and https"),
        (("profile", "add-image", "aria", str(text)), "not an image"),
        (("profile", "show", "nobody"), "nobody"),
    ):
        result = royalty_here(store, *args)
        assert result.returncode != 0 and needle in result.stderr, (args, result.stderr)


def test_release_prices_set_and_read(store: StoreConfig) -> None:
    done = _json(store, "pricing", "release-set", UPC, "--min", "EUR:5.00", "--territory-min", "GB=GBP:4.00")
    assert done["changed"] is True and done["minimums"] == {"EUR": 5_000_000}
    assert _json(store, "pricing", "release", UPC)["territory_minimums"] == {"GB": {"GBP": 4_000_000}}
    for args in (
        ("release-set", UPC, "--min", "EUR:-1"),
        ("release-set", UPC, "--min", "5.00"),
        ("release", "0000000000000"),
    ):
        result = royalty_here(store, "pricing", *args)
        assert result.returncode != 0, args
