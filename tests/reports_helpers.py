"""Shared set-up for the sales-report tests: a small catalogue, the fixture mappings, statements."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ledger.application import RoyaltyLedger
from ledger.domain.period import Period
from ledger.reports.commands import set_mapping
from projections.statements.close import engine_for

FIXTURES = Path(__file__).resolve().parents[1] / "docs" / "examples" / "reports"  # docs and tests share them
R1, R2, R3 = "USRC17607839", "GBAYE0000001", "FRZ031900001"
UPC = "3760000000000"
ISWC = "T-034.524.680-1"

STORE_MAPPING: dict[str, Any] = {
    "format": "csv",
    "columns": {
        "proprietary_id": "Vendor Identifier",
        "isrc": "ISRC",
        "upc": "UPC",
        "title": "Title",
        "artist": "Artist",
        "territory": "Country Code",
        "period": "Sales Month",
        "units": "Quantity",
        "gross": "Customer Price",
        "net": "Partner Share",
        "currency": "Currency",
        "right_type": "Right",
    },
    "target_currency": "EUR",
}
DSR_MAPPING: dict[str, Any] = {"format": "dsr", "defaults": {"right_type": "master"}, "target_currency": "EUR"}


def T(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def catalogue(app: RoyaltyLedger) -> None:
    """a/b hold R1's master 50/50; c holds R2's; p publishes the work of R1 (ISWC)."""
    for key in ("a", "b", "c", "p"):
        app.upsert_party(key, key.upper(), ["artist"], "t")
    app.upsert_work("W1", "One", [{"party": "p", "role": "composer"}], "t", iswc=ISWC)
    app.upsert_recording(R1, "One", "A", 200_000, "t", work_key="W1")
    app.upsert_recording(R2, "Two", "B", 200_000, "t")
    app.deliver_release(UPC, "One (single)", [R1, R2], date(2025, 12, 1), "t")
    app.set_rights_pie(
        {
            "*:*": {"platform": 300_000, "master": 700_000, "publishing": 0},
            "master:*": {"platform": 150_000, "master": 850_000, "publishing": 0},
            "performance:*": {"platform": 100_000, "master": 0, "publishing": 900_000},
        },
        T(2020, 1, 1),
        "pie",
        "t",
    )
    app.set_split("master", R1, {"a": 500_000, "b": 500_000}, T(2025, 1, 1), "t", "v1")
    app.set_split("master", R2, {"c": 1_000_000}, T(2025, 1, 1), "t", "v1")
    app.set_split("publishing", "W1", {"p": 1_000_000}, T(2025, 1, 1), "t", "v1")
    set_mapping(app, "store", STORE_MAPPING, "first", "t")
    set_mapping(app, "wavestream", DSR_MAPPING, "first", "t")


def account_totals(app: RoyaltyLedger, periods: list[Period], as_of: int | None = None) -> dict[tuple[str, str], int]:
    engine = engine_for(app, app.config)
    at = app.head_position() if as_of is None else as_of
    out: dict[tuple[str, str], int] = defaultdict(int)
    for period in periods:
        result = engine.period_result(period, at)
        for account in result.lines:
            for currency, micros in result.totals(account).items():
                out[(account, currency)] += micros
    return {k: v for k, v in out.items() if v}


def live_totals(app: RoyaltyLedger) -> dict[tuple[str, str], int]:
    """The live earnings read model's totals per account, after the projector caught up."""
    from projections.db import ViewDB
    from projections.projector import Projector

    db = ViewDB(app.config)
    try:
        Projector(app, db, batch_size=3).catch_up()
        rows = db.execute("SELECT account, currency, SUM(amount_micros) FROM earn_account_day GROUP BY 1, 2")
    finally:
        db.close()
    return {(str(a), str(c)): int(m) for a, c, m in rows if m}
