"""`royalty statements close|replay --engine spark` as a user types it (Spark in local mode, real)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from ledger.application import RoyaltyLedger
from tests.accounting_fixtures import Play, insert_usage
from tests.e2e.cli_runner import royalty_here

pytest.importorskip("pyspark", reason="the spark extra is part of the dev install")
ISRC = "USRC17607839"


def _setup(config) -> None:
    app = RoyaltyLedger(config)
    for key, kind in (("ann", "artist"), ("lbl", "label")):
        app.upsert_party(key, key.title(), [kind], "t")
    app.upsert_recording(ISRC, "Moth", "Ann", 1000, "t")
    app.set_split("master", ISRC, {"ann": 600_000, "lbl": 400_000}, datetime(2026, 1, 1, tzinfo=UTC), "t", "v1")
    app.set_rights_pie(
        {"*:*": {"platform": 300_000, "master": 700_000, "publishing": 0}},
        datetime(2020, 1, 1, tzinfo=UTC),
        "co-op",
        "t",
    )
    insert_usage(
        config,
        app.head_position(),
        [Play(f"p{i}", ISRC, datetime(2026, 1, 3, tzinfo=UTC), 5_000_001) for i in range(10)],
    )
    app.close()


def _json(config, *args: str) -> dict:
    result = royalty_here(config, *args, "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def test_close_on_spark_and_replay_on_either_engine(sqlite_config, tmp_path):
    _setup(sqlite_config)
    archive = str(tmp_path / "archive")
    closed = _json(sqlite_config, "statements", "close", "2026-01", "--engine", "spark", "--archive", archive)
    assert closed["engine"] == "spark"
    # 50.000010 EUR: platform LR 30 % = 15.000003, master 35.000007 → ann 21.000004, lbl 14.000003.
    assert closed["totals"]["party:ann"]["EUR"]["closing"] == 21_000_004
    assert closed["totals"]["party:lbl"]["EUR"]["closing"] == 14_000_003
    assert list((tmp_path / "archive" / "period=2026-01").glob("pos-*.parquet"))
    for engine in ("store", "spark"):
        extra = ("--archive", archive) if engine == "spark" else ()
        replayed = _json(sqlite_config, "statements", "replay", "2026-01", "--engine", engine, *extra)
        assert replayed["ok"] is True and replayed["engine"] == engine


def test_an_unknown_engine_or_a_spark_option_without_spark_is_refused(sqlite_config, tmp_path):
    _setup(sqlite_config)
    unknown = royalty_here(sqlite_config, "statements", "close", "2026-01", "--engine", "flink", "--json")
    assert unknown.returncode != 0
    assert "unknown engine 'flink'" in json.loads(unknown.stdout)["error"]
    bad = royalty_here(
        sqlite_config, "statements", "close", "2026-01", "--engine", "spark", "--archive", "foo://b/x", "--json"
    )
    assert bad.returncode != 0 and "usage archive 'foo://b/x' cannot be used" in json.loads(bad.stdout)["error"]
    a_file = tmp_path / "archive.txt"
    a_file.write_text("x")
    bad = royalty_here(
        sqlite_config, "statements", "close", "2026-01", "--engine", "spark", "--archive", str(a_file), "--json"
    )
    assert bad.returncode != 0 and "is a file" in json.loads(bad.stdout)["error"]
    stray = royalty_here(sqlite_config, "statements", "replay", "2026-01", "--archive", str(tmp_path), "--json")
    assert stray.returncode != 0 and "--engine spark" in json.loads(stray.stdout)["error"]
