"""Sales reports through the API (SQLite; the same code runs on PostgreSQL in
tests/integration/test_reports.py): upload, re-upload, refusals, queue, link, quarantine."""

from __future__ import annotations

from ledger.reports.commands import set_rates, set_withholding
from ledger.reports.importer import import_report
from tests.e2e.api_fixtures import Api
from tests.reports_helpers import FIXTURES, R2, T, catalogue

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_upload_a_report_then_link_its_unmatched_line_from_the_queue(sqlite_api: Api) -> None:
    catalogue(sqlite_api.ledger)
    set_rates(sqlite_api.ledger, {"USD/EUR": "0.92"}, T(2025, 1, 1), "test", "t")
    accountant, auditor, artist = sqlite_api.key("accountant"), sqlite_api.key("auditor"), sqlite_api.key("party", "a")
    body = (FIXTURES / "store-2026-01.csv").read_bytes()
    files = {"file": ("store-2026-01.csv", body, "text/csv")}
    r = sqlite_api.client.post("/v1/reports", data={"source": "store"}, files=files, headers=accountant)
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["changed"] and doc["lines"] == 3 and doc["quarantined_total"] == 2
    assert doc["position"] == sqlite_api.ledger.head_position()
    again = sqlite_api.client.post("/v1/reports", data={"source": "store"}, files=files, headers=accountant)
    assert again.status_code == 200 and again.json()["changed"] is False
    assert again.json()["report_id"] == doc["report_id"]
    unknown = sqlite_api.client.post("/v1/reports", data={"source": "nosuch"}, files=files, headers=accountant)
    assert unknown.status_code == 404 and "nosuch" in unknown.json()["detail"]
    bad = {"file": ("x.csv", b"ISRC\nUSRC17607839\n", "text/csv")}
    unreadable = sqlite_api.client.post("/v1/reports", data={"source": "store"}, files=bad, headers=accountant)
    assert unreadable.status_code == 422 and unreadable.json()["type"].endswith("unreadable-file")
    refused = sqlite_api.client.post("/v1/reports", data={"source": "store"}, files=files, headers=artist)
    assert refused.status_code == 403
    queue = sqlite_api.client.get("/v1/reports/queue", headers=auditor).json()
    assert [(e["link_kind"], e["link_value"], e["suggestions"]) for e in queue] == [("proprietary_id", "PX-1002", [R2])]
    link = {"source": "store", "kind": "proprietary_id", "id": "PX-1002", "isrc": R2, "note": "same title"}
    r = sqlite_api.client.post("/v1/reports/links", json=link, headers=accountant)
    assert r.status_code == 200 and r.json()["changed"] is True
    assert sqlite_api.client.get("/v1/reports/queue", headers=auditor).json() == []
    listed = sqlite_api.client.get("/v1/reports", headers=auditor).json()
    assert [x["report_id"] for x in listed] == [doc["report_id"]]
    quarantined = sqlite_api.client.get("/v1/reports/quarantine", params={"source": "store"}, headers=auditor).json()
    assert sorted(q["reason"] for q in quarantined) == ["malformed_isrc", "unknown_territory"]
    for route in ("/v1/reports/quarantine", "/v1/reports/queue"):  # an unknown source: 404, not []
        r = sqlite_api.client.get(route, params={"source": "nosuch"}, headers=auditor)
        assert r.status_code == 404 and "unknown report source 'nosuch'" in r.json()["detail"], (route, r.text)


def test_upload_a_store_workbook_and_a_corrupt_one(sqlite_api: Api) -> None:
    catalogue(sqlite_api.ledger)
    set_rates(sqlite_api.ledger, {"USD/EUR": "0.92"}, T(2025, 1, 1), "test", "t")
    accountant = sqlite_api.key("accountant")
    workbook = (FIXTURES / "store-2026-01.xlsx").read_bytes()
    files = {"file": ("store-2026-01.xlsx", workbook, XLSX)}
    r = sqlite_api.client.post("/v1/reports", data={"source": "store"}, files=files, headers=accountant)
    assert r.status_code == 200, r.text
    assert (r.json()["lines"], r.json()["quarantined_total"]) == (3, 2)
    corrupt = {"file": ("broken.xlsx", workbook[: len(workbook) // 2], XLSX)}
    r = sqlite_api.client.post("/v1/reports", data={"source": "store"}, files=corrupt, headers=accountant)
    assert r.status_code == 422 and r.json()["type"].endswith("unreadable-file")
    assert "not a readable xlsx workbook" in r.json()["detail"]


def test_only_an_admin_remits_withholding_tax_and_never_more_than_is_held(sqlite_api: Api) -> None:
    app = sqlite_api.ledger
    catalogue(app)
    set_rates(app, {"USD/EUR": "0.92"}, T(2025, 1, 1), "test", "t")
    set_withholding(app, {"a": {"US": 300_000}}, T(2025, 1, 1), "US withholding", "t")
    import_report(app, (FIXTURES / "store-2026-01.csv").read_bytes(), source="store", actor="t")
    admin, accountant = sqlite_api.key("admin"), sqlite_api.key("accountant")
    body = {"territory": "US", "currency": "EUR", "amount_micros": 100_000, "periods": ["2026-01"], "reference": "R-1"}
    refused = sqlite_api.client.post("/v1/reports/tax-remittances", json=body, headers=accountant)
    assert refused.status_code == 403
    r = sqlite_api.client.post("/v1/reports/tax-remittances", json=body, headers=admin)
    assert r.status_code == 200, r.text
    assert (r.json()["held_micros"], r.json()["remitted_micros"], r.json()["periods"]) == (5_570, 100_000, ["2026-01"])
    assert r.json()["position"] == app.head_position()
    r = sqlite_api.client.post("/v1/reports/tax-remittances", json={**body, "reference": "R-2"}, headers=admin)
    assert r.status_code == 422 and "more than it holds" in r.json()["detail"]
    held = sqlite_api.client.get("/v1/reports/tax-held", headers=accountant).json()
    assert held == [
        {
            "account": "tax:US",
            "territory": "US",
            "currency": "EUR",
            "withheld_micros": 105_570,
            "remitted_micros": 100_000,
            "held_micros": 5_570,
            "over_remitted_micros": 0,
        }
    ]
