"""`royalty audit verify` passes after any sequence of closes, forced closes, late usage and payouts.

The sequence is the commands a user types (run in this process, each with a fresh application,
to stay fast), on SQLite and PostgreSQL. A close out of order is refused
with a clear message and a non-zero exit even with --force (a month below a later closed one, a
month past an open one, a month closed again); --force closes a month that has not ended.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ledger.application import RoyaltyLedger
from ledger.store.config import StoreConfig
from ledger.usage.listener import SECRET_ENV
from tests.e2e.cli_runner import royalty_here
from tests.payments_helpers import ISRC, payments_catalogue
from tests.usage_helpers import SECRET


def _sales(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    """NDJSON sales: (sale id, occurred_at, amount in EUR)."""
    path.write_text(
        "".join(
            json.dumps(
                {
                    "sale_id": sale_id,
                    "kind": "download",
                    "occurred_at": at,
                    "isrc": ISRC,
                    "listener_id": "listener-1",
                    "territory": "DE",
                    "amount": amount,
                    "currency": "EUR",
                }
            )
            + "\n"
            for sale_id, at, amount in rows
        )
    )
    return path


def royalty(config: StoreConfig, *args: str) -> Any:
    return royalty_here(config, *args)


def royalty_json(config: StoreConfig, *args: str) -> Any:
    done = royalty_here(config, *args, "--json")
    assert done.returncode == 0, done.stderr + done.stdout
    return json.loads(done.stdout)


def _refused(config: StoreConfig, *args: str) -> str:
    done = royalty(config, *args, "--json")
    assert done.returncode != 0, done.stdout
    return str(json.loads(done.stdout)["error"])


def _verified(config: StoreConfig) -> dict[str, Any]:
    done = royalty(config, "audit", "verify", "--json")
    doc = json.loads(done.stdout)
    failed = [c for c in doc["money_equation"]["checks"] if not c["ok"]]
    assert done.returncode == 0 and doc["ok"], failed or doc
    return doc  # type: ignore[no-any-return]


def test_audit_verify_passes_after_closes_forced_closes_late_usage_and_payouts(
    store_config: StoreConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET.decode())
    monkeypatch.setenv("ROYALTY_MIN_PAYOUT", "1")
    app = RoyaltyLedger(store_config)
    payments_catalogue(app)
    app.close()
    royalty_json(
        store_config,
        "usage",
        "ingest",
        str(
            _sales(
                tmp_path / "first.ndjson",
                [
                    ("s1", "2026-08-10T10:00:00Z", "3.33"),
                    ("s2", "2026-09-10T10:00:00Z", "10.01"),
                    ("s3", "2026-10-10T10:00:00Z", "7.77"),
                    ("s4", "2026-11-10T10:00:00Z", "5.55"),
                ],
            )
        ),
    )
    # The first close starts the chain (August's money is outside statements, as before).
    royalty_json(store_config, "statements", "close", "2026-09")
    assert "2026-10 is still open" in _refused(store_config, "statements", "close", "2026-11")
    skipped = _refused(store_config, "statements", "close", "2026-11", "--force", "--reason", "skip October")
    assert "2026-10 is still open" in skipped and "--force cannot skip" in skipped
    royalty_json(store_config, "statements", "close", "2026-10")
    royalty_json(store_config, "payouts", "record", "aria", "2.00", "EUR")
    royalty_json(store_config, "statements", "close", "2026-11")
    _verified(store_config)

    # Late usage for closed months, a refund of an October sale, a payout, then forced re-closes.
    late = [
        ("s5", "2026-10-20T10:00:00Z", "4.44"),
        ("s6", "2026-09-02T10:00:00Z", "1.01"),
        ("s7", "2026-08-30T10:00:00Z", "2.22"),
    ]
    royalty_json(store_config, "usage", "ingest", str(_sales(tmp_path / "late.ndjson", late)))
    refund = tmp_path / "refund.ndjson"
    refund.write_text(
        json.dumps(
            {
                "sale_id": "r1",
                "kind": "refund",
                "refund_of": "s3",
                "isrc": ISRC,
                "occurred_at": "2026-11-28T10:00:00Z",
                "listener_id": "listener-1",
                "territory": "DE",
                "amount_micros": -2_000_000,
                "currency": "EUR",
            }
        )
        + "\n"
    )
    assert royalty_json(store_config, "usage", "ingest", str(refund))["accepted"] == 1
    royalty_json(store_config, "payouts", "record", "lbl", "1.50", "EUR")
    again = _refused(store_config, "statements", "close", "2026-10", "--force", "--reason", "x")
    assert again == "period 2026-10 is already closed; a closed month is never closed again"
    below = _refused(store_config, "statements", "close", "2026-08", "--force", "--reason", "x")
    assert below.startswith("period 2026-08 cannot be closed, even with --force: a later period (2026-11)")
    _verified(store_config)

    # --force closes a month before it has ended (with a reason, recorded); the chain goes on.
    early = royalty_json(store_config, "statements", "close", "2026-12", "--force", "--reason", "auditor asked")
    adjusted = early["totals"]["party:aria"]["EUR"]["adjustments"]
    assert adjusted != 0  # the late sales and the refund reached December's statement
    assert "already closed" in _refused(store_config, "statements", "close", "2026-11", "--force", "--reason", "x")
    for month in ("2026-09", "2026-10", "2026-11", "2026-12"):
        assert royalty_json(store_config, "statements", "replay", month)["ok"] is True
    doc = _verified(store_config)
    closes = {c["at"] for c in doc["money_equation"]["checks"]}
    assert closes >= {"close 2026-09", "close 2026-10", "close 2026-11", "close 2026-12"}
