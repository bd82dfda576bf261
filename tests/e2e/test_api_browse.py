"""Catalogue lists and search, stats rollups and earnings breakdowns through the API, with party scope."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from api.app import create_app
from api.deps import ApiSettings
from ledger.store.config import StoreConfig
from tests.e2e.api_fixtures import ISRC_A, ISRC_B, UPC_A, Api, TestClient, seed_catalogue, set_money_rules


@pytest.fixture(autouse=True)
def listener_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROYALTY_LISTENER_SECRET", "api-test-listener-secret-0123456789")


@pytest.fixture
def seeded(sqlite_config: StoreConfig, cheap_key_hashing: None) -> Iterator[tuple[Api, int]]:
    app = create_app(sqlite_config, projector=True, settings=ApiSettings(read_wait_s=20))
    with TestClient(app) as client:
        api = Api(client, app.state.ledger)
        seed_catalogue(api, api.key("admin"))
        set_money_rules(api)
        rows = [
            {
                "play_id": f"b{i}",
                "isrc": isrc,
                "listener_id": f"l{i}",
                "territory": terr,
                "occurred_at": f"2026-02-0{day}T1{i}:00:00Z",
                "seconds_played": 100,
            }
            for i, (isrc, terr, day) in enumerate([(ISRC_A, "GB", 3), (ISRC_A, "DE", 4), (ISRC_B, "GB", 4)])
        ]
        r = client.post("/v1/usage/batches", json={"rows": rows}, headers=api.key("platform"))
        assert r.status_code == 200, r.text
        yield api, int(r.json()["position"])


def test_list_recordings_by_credit_and_pages_with_a_cursor(seeded: tuple[Api, int]) -> None:
    api, position = seeded
    admin = api.key("admin")
    first = api.client.get("/v1/recordings", params={"limit": 1, "min_position": position}, headers=admin)
    assert first.status_code == 200, first.text
    assert [i["isrc"] for i in first.json()["items"]] == [ISRC_A]
    second = api.client.get("/v1/recordings", params={"limit": 1, "cursor": first.json()["next_cursor"]}, headers=admin)
    assert [i["isrc"] for i in second.json()["items"]] == [ISRC_B] and second.json()["next_cursor"] is None
    credited = api.client.get("/v1/recordings", params={"credit": "Alice", "role": "main_artist"}, headers=admin)
    assert [i["isrc"] for i in credited.json()["items"]] == [ISRC_A]
    releases = api.client.get("/v1/releases", params={"label": "label"}, headers=admin).json()
    assert [r["upc"] for r in releases["items"]] == [UPC_A]
    assert (
        api.client.get("/v1/works", params={"credit": "alice"}, headers=admin).json()["items"][0]["work_key"]
        == "song-a"
    )
    parties = api.client.get("/v1/catalogue/parties", params={"role": "main_artist"}, headers=admin).json()
    assert [p["party_key"] for p in parties["items"]] == ["alice", "bob"]
    bad = api.client.get("/v1/recordings", params={"cursor": "garbage"}, headers=admin)
    assert bad.status_code == 422 and "cursor" in bad.json()["detail"]


def test_a_party_key_lists_only_its_own(seeded: tuple[Api, int]) -> None:
    api, position = seeded
    bob = api.key("party", "bob")
    mine = api.client.get("/v1/recordings", params={"min_position": position}, headers=bob).json()
    assert [i["isrc"] for i in mine["items"]] == [ISRC_B]
    assert [p["party_key"] for p in api.client.get("/v1/catalogue/parties", headers=bob).json()["items"]] == ["bob"]
    hidden = api.client.get("/v1/stats", params={"isrc": ISRC_A}, headers=bob)
    assert hidden.status_code == 404
    assert api.client.get("/v1/stats", params={"party": "alice"}, headers=bob).status_code == 404


def test_stats_by_hour_are_per_hour_and_grouped_ranked(seeded: tuple[Api, int]) -> None:
    api, position = seeded
    admin = api.key("admin")
    hourly = api.client.get(
        f"/v1/recordings/{ISRC_A}/stats", params={"by": "hour", "min_position": position}, headers=admin
    ).json()
    assert [p["bucket"] for p in hourly["series"]] == ["2026-02-03T10:00:00Z", "2026-02-04T11:00:00Z"]
    assert hourly["by"] == "hour"
    disagree = api.client.get(
        f"/v1/recordings/{ISRC_A}/stats", params={"by": "hour", "granularity": "day"}, headers=admin
    )
    assert disagree.status_code == 422
    weekly = api.client.get(f"/v1/recordings/{ISRC_A}/stats", params={"by": "week"}, headers=admin).json()
    assert [p["bucket"] for p in weekly["series"]] == ["2026-02-02T00:00:00Z"]
    top = api.client.get("/v1/stats", params={"by": "year", "group": "territory", "top": 1}, headers=admin).json()
    assert [(r["key"], r["plays"]) for r in top["ranking"]] == [("GB", 2)]
    by_source = api.client.get("/v1/stats", params={"by": "month", "group": "source"}, headers=admin).json()
    assert by_source["ranking"][0]["plays"] == 3
    release = api.client.get("/v1/stats", params={"upc": UPC_A, "group": "recording"}, headers=admin).json()
    assert {r["key"] for r in release["ranking"]} == {ISRC_A, ISRC_B}


def test_unknown_subjects_are_404_problems(seeded: tuple[Api, int]) -> None:
    api, _ = seeded
    admin = api.key("admin")
    for params in ({"upc": "5012345678917"}, {"isrc": "GBAYE2699999"}, {"party": "nobody"}, {"artist": "Nobody"}):
        r = api.client.get("/v1/stats", params=params, headers=admin)
        assert r.status_code == 404, (params, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    assert api.client.get("/v1/parties/nobody/earnings", headers=admin).status_code == 404


def test_earnings_by_release_week_and_top(seeded: tuple[Api, int]) -> None:
    api, position = seeded
    label = api.key("party", "label")
    url = "/v1/parties/label/earnings"
    total = api.client.get(url, params={"min_position": position}, headers=label).json()["totals_micros"]
    for by in ("release", "week", "month", "year", "kind"):
        lines = api.client.get(url, params={"by": by}, headers=label).json()["lines"]
        assert sum(x["amount_micros"] for x in lines) == sum(total.values()), by
    top = api.client.get(url, params={"by": "recording", "top": 1}, headers=label).json()["lines"]
    assert len(top) == 1
