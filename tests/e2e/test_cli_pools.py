"""`royalty pools` as a user types it: configure, rule, import a provider's CSV (bad rows
quarantined with their reason), show, compare (table, terminal chart, PNG, --json)."""

from __future__ import annotations

import json
from pathlib import Path

from ledger.application import RoyaltyLedger
from ledger.usage.ingest import ingest_rows
from ledger.usage.listener import SECRET_ENV
from tests.e2e.cli_runner import royalty_here
from tests.pools_helpers import SECRET, T
from tests.usage_helpers import ISRCS, build_catalogue, play

R1, R2 = ISRCS[0], ISRCS[1]
ENV = {SECRET_ENV: SECRET, "ROYALTY_ACTOR": "test"}


def run(config, *args):
    return royalty_here(config, *args, env=ENV)


def test_a_month_of_a_subscription_pool_from_a_csv_to_the_comparison(sqlite_config, tmp_path: Path):
    app = RoyaltyLedger(sqlite_config, clock=lambda: T(2026, 3, 5))
    build_catalogue(app)
    for key in ("a", "b"):
        app.upsert_party(key, key.upper(), ["artist"], "t")
    app.set_split("master", R1, {"a": 1_000_000}, T(2025, 1, 1), "t", "v1")
    app.set_split("master", R2, {"b": 1_000_000}, T(2025, 1, 1), "t", "v1")
    at = "2026-01-09T10:00:00Z"
    plays = [play(f"a{i}", isrc=R1, listener="s1", at=at) for i in range(3)]
    plays += [play("b1", isrc=R2, listener="s1", at=at), play("b2", isrc=R2, listener="s2", at=at)]
    assert ingest_rows(app, plays, actor="t", secret=SECRET.encode()).accepted == 5
    app.close()
    assert (
        run(
            sqlite_config,
            "pie",
            "set",
            "--rule",
            "*:*=30%,70%,0%",
            "--effective-from",
            "2020-01-01T00:00:00Z",
            "--reason",
            "t",
        ).returncode
        == 0
    )
    assert (
        run(sqlite_config, "pools", "configure", "subs", "--kind", "subscription", "--currency", "EUR").returncode == 0
    )
    assert (
        run(
            sqlite_config,
            "pools",
            "rule",
            "subs",
            "--method",
            "user-centric",
            "--fallback",
            "coop-fund",
            "--eligible",
            "a,b",
            "--effective-from",
            "2026-01",
            "--reason",
            "launch",
        ).returncode
        == 0
    )
    bad = run(
        sqlite_config, "pools", "rule", "subs", "--method", "fair", "--effective-from", "2026-01", "--reason", "x"
    )
    assert bad.returncode == 1 and "method 'fair'" in bad.stderr
    csv_file = tmp_path / "paypal.csv"
    csv_file.write_text(
        "contribution_id,pool,kind,occurred_at,amount,currency,listener\n"
        "pp1,subs,payment,2026-01-03T10:00:00Z,10.00,EUR,s1\n"
        "pp2,subs,payment,2026-01-04T10:00:00Z,10.00,EUR,s2\n"
        "pp3,subs,payment,2026-01-04T10:00:00Z,ten,EUR,s3\n"
        "pp4,subs,payment,2026-01-04T10:00:00Z,5.00,USD,s3\n"
    )
    imported = run(sqlite_config, "pools", "import", str(csv_file), "--source", "csv:paypal", "--json")
    doc = json.loads(imported.stdout)
    assert imported.returncode == 0 and doc["accepted"] == 2
    assert doc["quarantined"] == {"malformed": 1, "currency_mismatch": 1}
    again = json.loads(run(sqlite_config, "pools", "import", str(csv_file), "--source", "csv:paypal", "--json").stdout)
    assert again["accepted"] == 0 and again["duplicates"] == 4  # the bad rows are held once
    shown = json.loads(run(sqlite_config, "pools", "show", "2026-01", "--json").stdout)
    pool = shown["pools"][0]
    assert pool["line_kind"] == "pool:subs/v1/user-centric" and pool["subscribers"] == 2
    assert {r["isrc"]: (r["counted_plays"], r["amount_micros"]) for r in pool["recordings"]} == {
        R1: (3, 7_500_000),
        R2: (2, 12_500_000),
    }
    png = tmp_path / "compare.png"
    compared = run(sqlite_config, "pools", "compare", "2026-01", "--png", str(png), "--json")
    doc = json.loads(compared.stdout)
    assert doc["equal_totals"] and doc["totals"]["EUR"]["pro-rata"] == 20_000_000
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = run(sqlite_config, "pools", "compare", "2026-01")
    assert text.returncode == 0 and "user-centric" in text.stdout and "equal-share" in text.stdout
    assert run(sqlite_config, "pools", "compare", "2026-13").returncode == 1
    closed = run(sqlite_config, "statements", "close", "2026-01", "--json")
    assert closed.returncode == 0, closed.stdout + closed.stderr
    assert json.loads(run(sqlite_config, "statements", "replay", "2026-01", "--json").stdout)["ok"]
    exported = run(
        sqlite_config,
        "statements",
        "export",
        "2026-01",
        *(a for f in ("csv", "json", "parquet", "pdf", "xml") for a in ("--format", f)),
        "--out",
        str(tmp_path / "out"),
    )
    assert exported.returncode == 0, exported.stderr
    issued = json.loads((tmp_path / "out" / "statements-2026-01.json").read_text())["statements"]
    lines = issued["party:a"]["currencies"]["EUR"]["earnings"]
    assert {x["kind"] for x in lines} >= {"pool:subs/v1/user-centric"}
    audit = json.loads(run(sqlite_config, "audit", "verify", "--json").stdout)
    assert audit["ok"], json.dumps(audit)
    assert audit["pool_contributions"]["rows"] == 2 and audit["pool_contributions"]["quarantine_rows"] == 2


def test_collectives_single_contributions_and_gifts_from_the_command_line(sqlite_config):
    app = RoyaltyLedger(sqlite_config, clock=lambda: T(2026, 3, 5))
    build_catalogue(app)
    for key in ("c", "d", "e"):
        app.upsert_party(key, key.upper(), ["artist"], "t")
    app.close()
    made = run(
        sqlite_config,
        "pools",
        "collective",
        "c",
        "--member",
        "d=60%",
        "--member",
        "e=40%",
        "--effective-from",
        "2026-01",
        "--json",
    )
    assert made.returncode == 0 and json.loads(made.stdout)["version"] == 1, made.stderr
    assert (
        run(sqlite_config, "pools", "collective", "c", "--member", "d=60%", "--effective-from", "2026-01").returncode
        == 1
    )
    assert run(sqlite_config, "pools", "configure", "fans", "--kind", "patronage", "--currency", "EUR").returncode == 0
    assert run(sqlite_config, "pools", "configure", "fans", "--kind", "patronage", "--currency", "EUR").returncode == 1
    assert (
        run(
            sqlite_config,
            "pools",
            "rule",
            "fans",
            "--method",
            "equal-share",
            "--eligible",
            "d,e",
            "--effective-from",
            "2026-01",
            "--reason",
            "launch",
        ).returncode
        == 0
    )
    given = run(
        sqlite_config,
        "pools",
        "contribute",
        "fans",
        "--contribution-id",
        "f1",
        "--amount",
        "3.000001",
        "--currency",
        "EUR",
        "--occurred-at",
        "2026-01-05T00:00:00Z",
        "--listener",
        "fan",
        "--target",
        "c",
        "--json",
    )
    assert json.loads(given.stdout)["accepted"] == 1
    shown = json.loads(run(sqlite_config, "pools", "show", "2026-01", "--json").stdout)["pools"][0]
    # c's 3 000 001 by its members' shares: d 1 800 001 (remainder .6 beats .4), e 1 200 000
    assert {(p["party"], p["via"]): p["amount_micros"] for p in shown["parties"]} == {
        ("d", "c"): 1_800_001,
        ("e", "c"): 1_200_000,
    }
    gift = run(
        sqlite_config,
        "pools",
        "gift",
        "newcomer",
        "--gift-id",
        "g1",
        "--amount",
        "0.5",
        "--currency",
        "EUR",
        "--friend",
        "old-fan",
        "--json",
    )
    assert gift.returncode == 0 and json.loads(gift.stdout)["funded_by"] == "friend", gift.stderr
    assert (
        run(
            sqlite_config, "pools", "gift", "newcomer", "--gift-id", "g1", "--amount", "1", "--currency", "EUR"
        ).returncode
        == 1
    )
    gifts = json.loads(run(sqlite_config, "pools", "gifts", "--json").stdout)
    assert gifts["by_funder"][0]["granted_micros"] == 500_000 and gifts["by_funder"][0]["remaining_micros"] == 500_000
    assert "old-fan" not in json.dumps(gifts) and "newcomer" not in json.dumps(gifts)
