"""Pools through the API: contributions in (bad rows quarantined, never a 500), the comparison out."""

from __future__ import annotations

import pytest

from tests.e2e.api_fixtures import ISRC_A, Api, seed_catalogue, set_money_rules


@pytest.fixture(autouse=True)
def listener_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROYALTY_LISTENER_SECRET", "api-test-listener-secret-0123456789")


def test_contributions_then_the_comparison_of_the_rules(sqlite_api: Api) -> None:
    api, admin = sqlite_api, sqlite_api.key("admin")
    seed_catalogue(api, admin)
    set_money_rules(api)
    api.ledger.configure_pool("subs", "Subscriptions", "subscription", "EUR", "test")
    api.ledger.set_pool_rule("subs", {"method": "user-centric"}, "2026-02", "launch", "test")
    rows = [
        {
            "play_id": f"s{i}",
            "isrc": ISRC_A,
            "listener_id": "fan",
            "territory": "GB",
            "occurred_at": "2026-02-03T10:00:00Z",
            "seconds_played": 100,
        }
        for i in range(2)
    ]
    assert api.client.post("/v1/usage/batches", json={"rows": rows}, headers=api.key("platform")).status_code == 200
    body = {
        "source": "csv:paypal",
        "rows": [
            {
                "contribution_id": "c1",
                "pool": "subs",
                "occurred_at": "2026-02-01T00:00:00Z",
                "amount": "9.99",
                "currency": "EUR",
                "listener": "fan",
            },
            {
                "contribution_id": "c2",
                "pool": "subs",
                "occurred_at": "2026-02-01T00:00:00Z",
                "amount": "9.99",
                "currency": "GBP",
                "listener": "fan",
            },
            {"contribution_id": "c3", "pool": "subs", "occurred_at": "yesterday", "amount": 3, "currency": "EUR"},
        ],
    }
    r = api.client.post("/v1/pools/contributions", json=body, headers=admin)
    assert r.status_code == 201, r.text
    assert r.json()["accepted"] == 1 and r.json()["quarantined"] == {"currency_mismatch": 1, "malformed": 1}
    assert api.client.post("/v1/pools/contributions", json=body, headers=api.key("party", "alice")).status_code == 403
    doc = api.client.get("/v1/pools/2026-02/comparison", headers=api.key("accountant")).json()
    assert doc["rules"] == ["configured", "pro-rata", "user-centric"]
    assert doc["equal_totals"] and doc["totals"] == {
        "EUR": {"configured": 9_990_000, "pro-rata": 9_990_000, "user-centric": 9_990_000}
    }
    assert api.client.get("/v1/pools/2026-13/comparison", headers=admin).status_code == 422
