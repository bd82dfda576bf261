"""Fixtures for the API tests: an app on a migrated store, keys per role, a seeded catalogue."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from argon2 import PasswordHasher, profiles

from api import auth
from api.app import create_app
from api.auth import create_key
from api.positions import ApiLedger
from ledger.store.config import StoreConfig
from ledger.usage.pricing_commands import demo_pricing

with warnings.catch_warnings():
    # starlette warns that it prefers httpx2 (not installable here); the client works with httpx.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

ISRC_A, ISRC_B = "GBAYE2600001", "GBAYE2600002"
UPC_A = "5012345678900"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Api:
    client: TestClient
    ledger: ApiLedger

    def key(self, role: str, party: str | None = None) -> dict[str, str]:
        issued = create_key(self.ledger, role, "test", party)
        return {"Authorization": f"Bearer {issued.token}"}


@pytest.fixture
def cheap_key_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at full cost takes ~0.4 s a key here; tests prove the flow, not the cost."""
    monkeypatch.setattr(auth, "_HASHER", PasswordHasher.from_parameters(profiles.CHEAPEST))


@pytest.fixture
def api(store_config: StoreConfig, cheap_key_hashing: None) -> Iterator[Api]:
    app = create_app(store_config)
    with TestClient(app) as client:
        yield Api(client, app.state.ledger)


@pytest.fixture
def sqlite_api(sqlite_config: StoreConfig, cheap_key_hashing: None) -> Iterator[Api]:
    app = create_app(sqlite_config)
    with TestClient(app) as client:
        yield Api(client, app.state.ledger)


def set_money_rules(api: Api) -> None:
    """Demo pricing and a rights pie (30 % platform, 60 % master, 10 % publishing)."""
    api.ledger.set_pricing(demo_pricing(), "test", "test")
    api.ledger.set_rights_pie(
        {"*:*": {"platform": 300_000, "master": 600_000, "publishing": 100_000}}, T0, "test", "test"
    )


def seed_catalogue(api: Api, admin: dict[str, str]) -> None:
    """Two artists under one label, a third party; two recordings on one release, splits set."""
    put = api.client.put
    for key, kinds in (("label", ["label"]), ("alice", ["artist"]), ("bob", ["artist"]), ("carol", ["artist"])):
        assert put(f"/v1/parties/{key}", json={"name": key.title(), "kinds": kinds}, headers=admin).status_code == 200
    for key in ("alice", "bob"):
        r = api.client.post(f"/v1/parties/{key}/managers", json={"manager_key": "label"}, headers=admin)
        assert r.status_code == 200, r.text
    assert (
        put(
            "/v1/works/song-a",
            json={"title": "Song A", "writers": [{"party": "alice", "role": "composer"}]},
            headers=admin,
        ).status_code
        == 200
    )
    for isrc, artist in ((ISRC_A, "alice"), (ISRC_B, "bob")):
        r = put(
            f"/v1/recordings/{isrc}",
            json={
                "title": f"Track {artist}",
                "display_artist": artist.title(),
                "duration_ms": 180_000,
                "work_key": "song-a" if artist == "alice" else None,
                "credits": [{"party": artist, "role": "main_artist"}],
            },
            headers=admin,
        )
        assert r.status_code == 200, r.text
        r = api.client.post(
            f"/v1/splits/master/{isrc}/versions",
            json={
                "shares": {artist: 700_000, "label": 300_000},
                "effective_from": T0.isoformat(),
                "reason": "initial delivery",
            },
            headers=admin,
        )
        assert r.status_code == 201, r.text
    r = put(
        f"/v1/releases/{UPC_A}",
        json={"title": "Album", "track_isrcs": [ISRC_A, ISRC_B], "release_date": "2026-01-01", "label_key": "label"},
        headers=admin,
    )
    assert r.status_code == 200, r.text
