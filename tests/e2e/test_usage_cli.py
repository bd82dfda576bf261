"""The usage and pricing commands as a user types them, on a SQLite store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from ledger.application import RoyaltyLedger
from ledger.store.config import StoreConfig
from tests.usage_helpers import SECRET, build_catalogue, clock

ROYALTY = Path(sys.executable).parent / "royalty"


def royalty(env: dict[str, str], *args: str, ok: bool = True) -> Any:
    done = subprocess.run([str(ROYALTY), *args, "--json"], env=env, capture_output=True, text=True, timeout=120)
    assert (done.returncode == 0) == ok, done.stderr
    return json.loads(done.stdout)


def test_generate_ingest_twice_list_the_quarantine_and_change_pricing(
    sqlite_config: StoreConfig, tmp_path: Path
) -> None:
    app = RoyaltyLedger(sqlite_config, clock=clock)
    build_catalogue(app)
    app.close()
    env = {**os.environ, "ROYALTY_DATABASE_URL": sqlite_config.describe(), "ROYALTY_LISTENER_SECRET": SECRET.decode()}
    out = tmp_path / "october.ndjson"
    made = royalty(env, "usage", "generate", "--plays", "3000", "--month", "2026-10", "--out", str(out), "--seed", "3")
    assert made["rows"] > 3000 and out.exists()

    first = royalty(env, "usage", "ingest", str(out), "--batch-size", "1000")
    assert first["accepted"] + first["duplicates"] + first["quarantined_total"] == made["rows"]
    assert first["quarantined_total"] > 0 and first["revenue_micros"]["EUR"] > 0
    again = royalty(env, "usage", "ingest", str(out))
    assert (again["accepted"], again["duplicates"], again["batches"]) == (0, made["rows"], 0)

    held = royalty(env, "usage", "quarantine", "list")
    assert held["count"] == first["quarantined_total"]
    assert all("listener_id" not in row["row"] for row in held["rows"])
    changed = royalty(
        env,
        "pricing",
        "set",
        "--rate",
        "0.005",
        "--territory-rate",
        "US=0.006",
        "--rule",
        "*/US=fixed_rate",
        "--reason",
        "US on fixed rate",
    )
    assert changed["version"] == 2 and len(changed["history"]) == 2
    assert changed["current"]["config"]["fixed_rate_by_territory"] == {"US": 6_000}
    refused = royalty(env, "pricing", "set", "--credit", "1.0001", ok=False)
    assert "multiple of 1000" in refused["error"]
