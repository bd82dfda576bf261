"""`royalty reports` as a user types it (SQLite; the same queries run on PostgreSQL in
tests/integration/test_reports.py): mapping, import, re-import, queue, link, list, quarantine."""

from __future__ import annotations

import json

from ledger.application import RoyaltyLedger
from tests.e2e.cli_runner import royalty_here
from tests.reports_helpers import FIXTURES, R2, STORE_MAPPING, T, catalogue


def run(config, *args: str):
    result = royalty_here(config, *args, "--json")
    return result.returncode, json.loads(result.stdout) if result.stdout.strip().startswith("{") else result.stdout


def test_import_queue_link_and_list_as_a_user_types_them(sqlite_config, tmp_path):
    app = RoyaltyLedger(sqlite_config, clock=lambda: T(2026, 2, 10))
    catalogue(app)
    app.close()
    mapping = tmp_path / "store.json"
    mapping.write_text(json.dumps({**STORE_MAPPING, "target_currency": "EUR"}))
    code, doc = run(sqlite_config, "reports", "mapping", "set", "--source", "shop", "--file", str(mapping))
    assert code == 0 and doc["version"] == 1
    code, doc = run(
        sqlite_config,
        "reports",
        "rates",
        "set",
        "--rate",
        "USD/EUR=0.92",
        "--effective-from",
        "2025-01-01T00:00:00Z",
        "--origin",
        "ECB",
    )
    assert code == 0 and doc["version"] == 1
    store_csv = str(FIXTURES / "store-2026-01.csv")
    code, doc = run(sqlite_config, "reports", "import", store_csv, "--source", "shop")
    assert code == 0 and doc["lines"] == 3 and doc["quarantined_total"] == 2 and not doc["already_imported"]
    report_id = doc["report_id"]
    code, doc = run(sqlite_config, "reports", "import", store_csv, "--source", "shop")
    assert code == 0 and doc["already_imported"] and doc["report_id"] == report_id
    code, doc = run(sqlite_config, "reports", "import", store_csv, "--source", "nosuch")
    assert code == 1 and "unknown report source 'nosuch'" in doc["error"]
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes((FIXTURES / "store-2026-01.xlsx").read_bytes()[:2000])
    code, doc = run(sqlite_config, "reports", "import", str(broken), "--source", "shop")
    assert code == 1 and "not a readable xlsx workbook" in doc["error"]
    code, doc = run(sqlite_config, "reports", "queue")
    assert code == 0 and [(e["link_kind"], e["link_value"]) for e in doc["entries"]] == [("proprietary_id", "PX-1002")]
    code, doc = run(
        sqlite_config,
        "reports",
        "link",
        "--source",
        "shop",
        "--kind",
        "proprietary_id",
        "--id",
        "PX-1002",
        "--isrc",
        R2,
        "--note",
        "checked the title",
    )
    assert code == 0 and doc["recorded"]
    code, doc = run(
        sqlite_config,
        "reports",
        "link",
        "--source",
        "shop",
        "--kind",
        "proprietary_id",
        "--id",
        "PX-1002",
        "--isrc",
        "ZZZ999999999",
    )
    assert code == 1 and "recording ZZZ999999999" in doc["error"]
    code, doc = run(sqlite_config, "reports", "queue")
    assert code == 0 and doc["entries"] == []
    code, doc = run(sqlite_config, "reports", "list")
    assert code == 0 and [r["report_id"] for r in doc["reports"]] == [report_id]
    code, doc = run(sqlite_config, "reports", "quarantine", "--source", "shop")
    assert code == 0 and sorted(q["reason"] for q in doc["lines"]) == ["malformed_isrc", "unknown_territory"]
    for listing in ("quarantine", "queue"):  # an unknown source is an error, never an empty table
        code, doc = run(sqlite_config, "reports", listing, "--source", "nosuch")
        assert code == 1 and "unknown report source 'nosuch'" in doc["error"], (listing, doc)
    code, doc = run(
        sqlite_config,
        "reports",
        "withholding",
        "set",
        "--rate",
        "a/US=30%",
        "--effective-from",
        "2025-01-01T00:00:00Z",
        "--reason",
        "US withholding",
    )
    assert code == 0 and doc["version"] == 1
    code, doc = run(
        sqlite_config,
        "reports",
        "withholding",
        "set",
        "--rate",
        "nobody/US=30%",
        "--effective-from",
        "2025-01-01T00:00:00Z",
        "--reason",
        "x",
    )
    assert code == 1 and "nobody" in doc["error"]
    code, doc = run(sqlite_config, "reports", "withholding", "show")
    assert code == 0 and doc["versions"][0]["rates"] == {"a": {"US": 300_000}}
    remit = ("reports", "remit-tax", "--territory", "US", "--currency", "EUR", "--period", "2026-01")
    code, doc = run(sqlite_config, *remit, "--amount", "0.10", "--reference", "IRS-2026-01")
    assert code == 0 and (doc["amount_micros"], doc["held_micros"]) == (100_000, 5_570)
    code, doc = run(sqlite_config, *remit, "--amount", "0.01", "--reference", "IRS-2026-01b")
    assert code == 1 and "tax:US holds 0.005570 EUR" in doc["error"]
    code, doc = run(sqlite_config, "reports", "tax-held")
    assert code == 0 and [(a["account"], a["held_micros"]) for a in doc["accounts"]] == [("tax:US", 5_570)]
    code, doc = run(sqlite_config, "statements", "show", "2026-01", "--party", "a")
    assert code == 0 and [
        x["amount_micros"] for x in doc["currencies"]["EUR"]["earnings"] if x["right"] == "withholding"
    ] == [-105_570]
    code, doc = run(sqlite_config, "statements", "show", "2026-01", "--party", "c")
    assert code == 0, doc
    earnings = doc["currencies"]["EUR"]["earnings"]
    assert [(e["kind"], e["amount_micros"]) for e in earnings] == [("master@shop", 1_178_100)]
    # A correction after the tax was remitted: the import names the over-remitted account, and
    # so does tax-held (0.90 → 0.45 USD: a's US tax 105 570 → 52 785 µ EUR, 100 000 paid over).
    corrected = tmp_path / "store-2026-01-corrected.csv"
    corrected.write_bytes((FIXTURES / "store-2026-01.csv").read_bytes().replace(b"1.29,0.90,USD", b"1.29,0.45,USD"))
    code, doc = run(sqlite_config, "reports", "import", str(corrected), "--source", "shop", "--supersedes", report_id)
    assert code == 0 and doc["supersedes"] == report_id.replace("-", ""), doc
    assert [(a["account"], a["held_micros"], a["over_remitted_micros"]) for a in doc["tax_over_remitted"]] == [
        ("tax:US", -47_215, 47_215)
    ]
    text = royalty_here(sqlite_config, "reports", "tax-held", env={"COLUMNS": "200"}).stdout
    assert "tax:US was paid over 0.047215 EUR more than the corrected reports withhold" in " ".join(text.split())
