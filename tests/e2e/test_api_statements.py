"""Statements (JSON, CSV, PDF) and audit status through the API, after plays were reported."""

from __future__ import annotations

import pytest

from tests.e2e.api_fixtures import ISRC_A, Api, seed_catalogue, set_money_rules


@pytest.fixture(autouse=True)
def listener_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROYALTY_LISTENER_SECRET", "api-test-listener-secret-0123456789")


def _report_plays(api: Api, n: int, first: int = 0) -> int:
    rows = [
        {
            "play_id": f"s{i}",
            "isrc": ISRC_A,
            "listener_id": f"l{i}",
            "territory": "GB",
            "occurred_at": "2026-02-03T10:00:00Z",
            "seconds_played": 100,
        }
        for i in range(first, first + n)
    ]
    r = api.client.post("/v1/usage/batches", json={"rows": rows}, headers=api.key("platform"))
    assert r.status_code == 200 and r.json()["accepted"] == n, r.text
    return int(r.json()["position"])


def test_a_statement_is_a_function_of_party_period_and_position(api: Api) -> None:
    admin = api.key("admin")
    seed_catalogue(api, admin)
    set_money_rules(api)
    first = _report_plays(api, 3)
    _report_plays(api, 2, first=3)
    alice = api.key("party", "alice")
    url = "/v1/parties/alice/statements/2026-02"
    now = api.client.get(url, headers=alice).json()
    earlier = api.client.get(url, params={"as_of": first}, headers=alice).json()
    [cur] = now["currencies"]
    totals, before = now["currencies"][cur], earlier["currencies"][cur]
    assert 0 < before["earnings_micros"] < totals["earnings_micros"]
    assert totals["earnings_micros"] == sum(x["amount_micros"] for x in totals["earnings"])
    assert totals["closing_micros"] == totals["opening_micros"] + totals["earnings_micros"]
    assert api.client.get(url, params={"as_of": first}, headers=alice).json() == earlier
    assert now["sha256"] != earlier["sha256"] and now["closed"] is False
    csv = api.client.get(url, params={"format": "csv"}, headers=alice)
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.startswith("statement,party:alice,period,2026-02")
    pdf = api.client.get(url, params={"format": "pdf"}, headers=api.key("accountant"))
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content[:5] == b"%PDF-"
    assert api.client.get(url, headers=api.key("party", "bob")).status_code == 403
    api.client.put("/v1/parties/alice", json={"name": "Łucja 光", "kinds": ["artist"]}, headers=admin)
    pdf = api.client.get(url, params={"format": "pdf"}, headers=alice)
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"


def test_audit_status_checks_the_chain_and_the_money(sqlite_api: Api) -> None:
    api = sqlite_api
    admin = api.key("admin")
    seed_catalogue(api, admin)
    set_money_rules(api)
    _report_plays(api, 2)
    r = api.client.get("/v1/audit/status", headers=api.key("auditor"))
    assert r.status_code == 200, r.text
    status = r.json()
    assert status["ok"] is True and status["chain"]["head"] == api.ledger.head_position()
    assert status["checks"]["money_equation"]["ok"] is True
    assert api.client.get("/v1/audit/status", headers=api.key("platform")).status_code == 403


def test_an_accountant_closes_a_month_and_the_statement_carries_its_hash(sqlite_api: Api) -> None:
    api = sqlite_api
    admin = api.key("admin")
    seed_catalogue(api, admin)
    set_money_rules(api)
    _report_plays(api, 2)
    assert (
        api.client.post("/v1/statements/2026-02/close", json={}, headers=api.key("party", "alice")).status_code == 403
    )
    accountant = api.key("accountant")
    r = api.client.post("/v1/statements/2026-02/close", json={}, headers=accountant)
    assert r.status_code == 201, r.text
    closed = r.json()
    assert closed["position"] == api.ledger.head_position() and closed["as_of_position"] < closed["position"]
    statement = api.client.get("/v1/parties/alice/statements/2026-02", headers=accountant).json()
    assert statement["closed"] is True and statement["as_of_position"] == closed["as_of_position"]
    assert statement["recorded_sha256"] == statement["sha256"] == closed["hashes"]["party:alice"]
    again = api.client.post("/v1/statements/2026-02/close", json={}, headers=accountant)
    assert again.status_code == 409 and again.json()["type"].endswith("/close-conflict")
    below = api.client.post("/v1/statements/2026-01/close", json={"force": True, "reason": "x"}, headers=accountant)
    assert below.status_code == 409 and "a later period (2026-02) is already closed" in below.json()["detail"]
