"""Statement lines a reader can tell apart: title, share (%) and split version on every line, in
the document and in the CSV, JSON and Parquet exports alike; none of it in the hashed form.

Moth (USRC17607839), master: v1 ann 60 / lbl 40 from 01-01, v2 ann 50 / lbl 50 from 01-16,
v3 ann 50 / lbl 30 / bob 20 from 01-20. One play of 10.000000 EUR on 01-05, 01-18 and 01-25;
the pie gives master 70 %. Ann's lines: 60 % (v1) 4.200000 and 50 % (v2 and v3, one line as the
share did not change) 3.500000 + 3.500000.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq

from ledger.application import RoyaltyLedger
from ledger.domain.period import Period
from ledger.store.config import StoreConfig
from projections.statements.close import close_period, compute_statements, engine_for, replay_period
from projections.statements.display import percent_text
from projections.statements.export import export_period
from projections.statements.statement import build_statement, statement_hash
from tests.accounting_fixtures import Play, insert_usage

ISRC = "USRC17607839"
JAN = Period(2026, 1)
DISPLAY = ("title", "right_percent", "share_percent", "split_version")


def T(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def _closed_january(config: StoreConfig) -> RoyaltyLedger:
    app = RoyaltyLedger(config, clock=lambda: T(2026, 2, 3))
    for key, kind in (("ann", "artist"), ("lbl", "label"), ("bob", "artist")):
        app.upsert_party(key, key.title(), [kind], "t")
    app.upsert_recording(ISRC, "Moth", "Ann", 200_000, "t")
    app.set_rights_pie({"*:*": {"platform": 300_000, "master": 700_000, "publishing": 0}}, T(2020, 1, 1), "pie", "t")
    app.set_split("master", ISRC, {"ann": 600_000, "lbl": 400_000}, T(2026, 1, 1), "t", "v1")
    app.set_split("master", ISRC, {"ann": 500_000, "lbl": 500_000}, T(2026, 1, 16), "t", "v2")
    app.set_split("master", ISRC, {"ann": 500_000, "lbl": 300_000, "bob": 200_000}, T(2026, 1, 20), "t", "v3")
    plays = [Play(f"p{d}", ISRC, T(2026, 1, d), 10_000_000) for d in (5, 18, 25)]
    insert_usage(config, app.head_position(), plays)
    close_period(app, config, JAN, "t")
    return app


def test_percentages_are_exact_text() -> None:
    assert [percent_text(p) for p in (600_000, 333_334, 125_000, 1, 0, 1_000_000)] == [
        "60",
        "33.3334",
        "12.5",
        "0.0001",
        "0",
        "100",
    ]


def test_lines_carry_title_share_and_version_and_the_hash_ignores_them(sqlite_config: StoreConfig) -> None:
    app = _closed_january(sqlite_config)
    engine = engine_for(app, sqlite_config)
    close = engine.history.closes[str(JAN)]
    doc = build_statement(engine, "party:ann", JAN, close.as_of_position)
    lines = doc["currencies"]["EUR"]["earnings"]
    assert [
        (x["title"], x["share_ppm"], x["share_percent"], x["split_version"], x["amount_micros"]) for x in lines
    ] == [
        ("Moth", 500_000, "50", "2, 3", 7_000_000),
        ("Moth", 600_000, "60", "1", 4_200_000),
    ]
    assert {x["right_percent"] for x in lines} == {"70"}
    bob = build_statement(engine, "party:bob", JAN, close.as_of_position)["currencies"]["EUR"]["earnings"]
    assert [(x["share_percent"], x["split_version"], x["amount_micros"]) for x in bob] == [("20", "3", 1_400_000)]
    # The display fields are outside the canonical form: the recorded hash is the hash of the
    # document without them, so periods closed before they existed replay to their hashes.
    bare = json.loads(json.dumps(doc))
    for line in bare["currencies"]["EUR"]["earnings"]:
        for name in DISPLAY:
            del line[name]
    assert statement_hash(doc) == statement_hash(bare) == close.statement_hashes["party:ann"]
    assert replay_period(app, sqlite_config, JAN).ok
    app.close()


def test_csv_json_and_parquet_carry_the_same_line_columns(sqlite_config: StoreConfig, tmp_path: Path) -> None:
    app = _closed_january(sqlite_config)
    engine = engine_for(app, sqlite_config)
    statements = compute_statements(engine, JAN, engine.history.closes[str(JAN)].as_of_position)
    export_period(statements, ["csv", "json", "parquet"], tmp_path, names={"ann": "Ann Lune"}, known_at=T(2026, 2, 3))
    wanted = [("Moth", 500_000, "50", "2, 3"), ("Moth", 600_000, "60", "1")]

    rows = list(csv.reader((tmp_path / "statement-2026-01-ann.csv").open()))
    assert rows[1] == ["platform", "Royalty Ledger co-operative", "payee", "Ann Lune"]
    assert rows[2][1].startswith("as known at 3 February 2026, 00:00 UTC, log position ")
    header = rows.index(next(r for r in rows if r[:1] == ["section"]))
    table = [dict(zip(rows[header], r, strict=True)) for r in rows[header + 1 :]]
    assert [(r["title"], int(r["share_ppm"]), r["share_percent"], r["split_version"]) for r in table] == wanted

    document = json.loads((tmp_path / "statements-2026-01.json").read_text())
    lines = document["statements"]["party:ann"]["currencies"]["EUR"]["earnings"]
    assert [(x["title"], x["share_ppm"], x["share_percent"], x["split_version"]) for x in lines] == wanted

    parquet = pq.read_table(tmp_path / "statement-lines-2026-01.parquet")
    for name in ("title", "right_percent", "share_percent", "split_version"):
        assert str(parquet.schema.field(name).type) == "string"
    ann = [r for r in parquet.to_pylist() if r["account"] == "party:ann"]
    assert [(r["title"], r["share_ppm"], r["share_percent"], r["split_version"]) for r in ann] == wanted
    app.close()
