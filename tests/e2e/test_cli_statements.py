"""The statements, payouts and pie commands as a user types them, on a SQLite store."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pyarrow.parquet as pq
from lxml import etree

from ledger.application import RoyaltyLedger
from projections.statements.dsr import read_dsr
from projections.statements.xml_export import statement_schema
from tests.accounting_fixtures import Play, insert_usage
from tests.e2e.cli_runner import royalty, royalty_json

ISRC = "USRC17607839"


def _setup(config) -> None:
    app = RoyaltyLedger(config)
    for key, kind in (("ann", "artist"), ("lbl", "label")):
        app.upsert_party(key, key.title(), [kind], "t")
    app.upsert_recording(ISRC, "Moth", "Ann", 1000, "t")
    app.set_split("master", ISRC, {"ann": 600_000, "lbl": 400_000}, datetime(2026, 1, 1, tzinfo=UTC), "t", "v1")
    insert_usage(
        config,
        app.head_position(),
        [Play(f"p{i}", ISRC, datetime(2026, 1, 3, tzinfo=UTC), 5_000_000) for i in range(10)],
    )
    app.close()


def test_close_show_replay_payout_and_export_from_the_command_line(sqlite_config, tmp_path):
    _setup(sqlite_config)
    pie = royalty_json(
        sqlite_config,
        "pie",
        "set",
        "--rule",
        "*:*=30%,70%,0%",
        "--effective-from",
        "2020-01-01T00:00:00Z",
        "--reason",
        "co-op",
    )
    assert pie["version"] == 1
    refused = royalty(sqlite_config, "statements", "close", "2099-01", "--json")
    assert refused.returncode != 0 and "has not ended" in json.loads(refused.stdout)["error"]

    closed = royalty_json(sqlite_config, "statements", "close", "2026-01")
    # 50.000000 EUR gross: platform 15, master 35 → ann 21, lbl 14.
    assert closed["totals"]["party:ann"]["EUR"]["closing"] == 21_000_000
    assert closed["totals"]["party:lbl"]["EUR"]["closing"] == 14_000_000
    shown = royalty_json(sqlite_config, "statements", "show", "2026-01", "--party", "ann")
    assert shown["sha256"] == shown["recorded_sha256"] == closed["hashes"]["party:ann"]
    assert royalty_json(sqlite_config, "statements", "replay", "2026-01")["ok"] is True

    paid = royalty_json(sqlite_config, "payouts", "record", "ann", "20.99", "EUR")
    assert paid["amount_micros"] == 20_990_000
    too_much = royalty(sqlite_config, "payouts", "record", "ann", "0.02", "EUR", "--minimum", "0", "--json")
    assert too_much.returncode != 0 and "at most 10000" in json.loads(too_much.stdout)["error"]

    out = tmp_path / "out"
    exported = royalty_json(
        sqlite_config,
        "statements",
        "export",
        "2026-01",
        "--format",
        "csv",
        "--format",
        "parquet",
        "--format",
        "pdf",
        "--format",
        "dsr",
        "--format",
        "json",
        "--format",
        "xml",
        "--out",
        str(out),
    )
    names = sorted(p.rsplit("/", 1)[1] for p in exported["files"])
    assert "statement-2026-01-lbl.tsv" in names and "statement-2026-01-ann.tsv" not in names
    assert (out / "statement-2026-01-ann.pdf").read_bytes().startswith(b"%PDF")
    lines = pq.read_table(out / "statement-lines-2026-01.parquet")
    assert lines.schema.field("amount_micros").type == "int64"
    assert sum(lines.column("amount_micros").to_pylist()) == 50_000_000
    dsr = (out / "statement-2026-01-lbl.tsv").read_text().splitlines()
    assert dsr[0].startswith("HEAD\tdsrf/") and dsr[-1].startswith(f"FOOT\t{len(dsr)}\t{len(dsr)}\t")
    # Read back, the label's DSR report adds up to its statement: 14 EUR, to the micro-unit.
    assert read_dsr(out / "statement-2026-01-lbl.tsv").amount_micros == {"EUR": 14_000_000}
    as_xml = etree.parse(str(out / "statement-2026-01-ann.xml"))
    assert statement_schema().validate(as_xml)
    closing = as_xml.findtext("{urn:royalty-ledger:statement:1}Currency/{urn:royalty-ledger:statement:1}Summary/"
                              "{urn:royalty-ledger:statement:1}ClosingMicros")  # fmt: skip
    assert closing == "21000000"


def test_show_refuses_an_unknown_party_or_account_instead_of_an_empty_statement(sqlite_config):
    _setup(sqlite_config)
    for name, said in (("nobody", "unknown party: nobody"), ("escrow:nothing", "unknown account: escrow:nothing")):
        shown = royalty(sqlite_config, "statements", "show", "2026-01", "--party", name, "--json")
        assert shown.returncode != 0 and said in json.loads(shown.stdout)["error"]
    # a registered party with nothing in the month still gets its (empty) statement: it is a true answer
    RoyaltyLedger(sqlite_config).upsert_party("quiet", "Quiet", ["artist"], "t")
    quiet = royalty_json(sqlite_config, "statements", "show", "2026-01", "--party", "quiet")
    assert quiet["account"] == "party:quiet" and quiet["currencies"] == {}
    # an account other than a party's is shown when the month has lines for it
    platform = royalty_json(sqlite_config, "statements", "show", "2026-01", "--party", "platform")
    assert platform["account"] == "platform"
