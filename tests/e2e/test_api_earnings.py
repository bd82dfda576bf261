"""Earnings, balance and stats through the API: read your writes through the projector."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from api.app import create_app
from api.deps import ApiSettings
from ledger.store.config import StoreConfig
from tests.e2e.api_fixtures import ISRC_A, ISRC_B, Api, TestClient, seed_catalogue, set_money_rules


@pytest.fixture(autouse=True)
def listener_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROYALTY_LISTENER_SECRET", "api-test-listener-secret-0123456789")


@pytest.fixture
def projected_api(store_config: StoreConfig, cheap_key_hashing: None) -> Iterator[Api]:
    """The app with its in-process projector following the log."""
    app = create_app(store_config, projector=True, settings=ApiSettings(read_wait_s=20))
    with TestClient(app) as client:
        yield Api(client, app.state.ledger)


def _report(api: Api) -> int:
    rows = [
        {
            "play_id": f"e{i}",
            "isrc": isrc,
            "listener_id": f"l{i}",
            "territory": terr,
            "occurred_at": f"2026-02-0{day}T10:00:00Z",
            "seconds_played": 100,
        }
        for i, (isrc, terr, day) in enumerate(
            [(ISRC_A, "GB", 3), (ISRC_A, "DE", 4), (ISRC_B, "GB", 4), (ISRC_A, "GB", 4)]
        )
    ]
    r = api.client.post("/v1/usage/batches", json={"rows": rows}, headers=api.key("platform"))
    assert r.status_code == 200 and r.json()["accepted"] == 4, r.text
    return int(r.json()["position"])


def test_earnings_read_your_writes_and_match_the_statement(projected_api: Api) -> None:
    api = projected_api
    admin = api.key("admin")
    seed_catalogue(api, admin)
    set_money_rules(api)
    position = _report(api)
    label = api.key("party", "label")
    url = "/v1/parties/label/earnings"
    total = api.client.get(url, params={"min_position": position}, headers=label)
    assert total.status_code == 200, total.text
    assert total.json()["as_of"] >= position
    [(currency, amount)] = total.json()["totals_micros"].items()
    assert amount > 0
    for by in ("recording", "day", "territory"):
        lines = api.client.get(url, params={"by": by, "min_position": position}, headers=label).json()["lines"]
        assert sum(x["amount_micros"] for x in lines) == amount, by
    by_recording = api.client.get(url, params={"by": "recording"}, headers=label).json()
    assert {x["key"] for x in by_recording["lines"]} == {ISRC_A, ISRC_B}
    statement = api.client.get(
        "/v1/parties/label/statements/2026-02", params={"as_of": total.json()["as_of"]}, headers=label
    ).json()
    assert statement["currencies"][currency]["earnings_micros"] == amount
    balance = api.client.get("/v1/parties/label/balance", headers=label).json()
    assert balance["balances"][0]["balance_micros"] == amount
    stats = api.client.get(
        f"/v1/recordings/{ISRC_A}/stats",
        params={"granularity": "day", "min_position": position},
        headers=api.key("party", "alice"),
    ).json()
    assert [(s["bucket"][:10], s["plays"]) for s in stats["series"]] == [("2026-02-03", 1), ("2026-02-04", 2)]
    health = api.client.get("/v1/health").json()
    assert min(health["projector"]["positions"].values()) >= position


def test_a_read_waits_then_answers_503_with_the_lag(sqlite_config: StoreConfig, cheap_key_hashing: None) -> None:
    app = create_app(sqlite_config, projector=False, settings=ApiSettings(read_wait_s=0.2))
    with TestClient(app) as client:
        api = Api(client, app.state.ledger)
        admin = api.key("admin")
        seed_catalogue(api, admin)
        set_money_rules(api)
        position = _report(api)
        r = client.get("/v1/parties/alice/earnings", params={"min_position": position}, headers=admin)
        assert r.status_code == 503 and r.headers["retry-after"] == "1"
        problem = r.json()
        assert problem["min_position"] == position and problem["reached"] < position
        assert problem["lag_positions"] == problem["head"] - problem["reached"] > 0
        r = client.get("/v1/parties/alice/earnings", params={"min_position": position + 1000}, headers=admin)
        assert r.status_code == 409
