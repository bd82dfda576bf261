"""A small catalogue and synthetic plays for the projector tests, and a dump of every view table."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from typing import Any

from benchmarks.usage_feed import make_plays, record_plays

from ledger.application import RoyaltyLedger
from projections.db import ViewDB
from projections.projector import MODELS

ISRCS = ["USRC17607839", "USRC17607840", "GBA2V2600001"]
UPC = "036000291452"
JAN_US = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp()) * 1_000_000
DAY_US = 86_400_000_000


def seed_catalogue(app: RoyaltyLedger) -> None:
    app.upsert_party("aria", "Aria Lune", ["artist"], "test")
    app.upsert_party("lbl", "Night Owl Records", ["label"], "test")
    app.upsert_party("pub", "Moth Music Publishing", ["publisher"], "test")
    app.upsert_work("moth", "Moth", [{"party": "aria", "role": "composer"}], "test")
    for n, isrc in enumerate(ISRCS):
        app.upsert_recording(
            isrc,
            f"Track {n}",
            "Aria Lune",
            180_000,
            "test",
            work_key="moth" if n == 0 else None,
            credits=[{"party": "aria", "role": "main_artist"}],
        )
        app.set_split(
            "master", isrc, {"aria": 600_000, "lbl": 400_000}, datetime(2025, 1, 1, tzinfo=UTC), "test", "initial"
        )
    app.set_split("publishing", "moth", {"pub": 1_000_000}, datetime(2025, 1, 1, tzinfo=UTC), "test", "initial")
    app.deliver_release(
        UPC, "Moths", ISRCS[:2], date(2026, 1, 9), "test", label_key="lbl", territories=["DE", "FR", "GB"]
    )


def record_some_plays(app: RoyaltyLedger, batches: int, per_batch: int, seed: int = 1, first_id: int = 0) -> int:
    """Record `batches` UsageBatch events of plays spread over January 2026; return the count."""
    rng = random.Random(seed)
    for b in range(batches):
        rows = make_plays(
            rng, per_batch, ISRCS, ["DE", "FR", "GB", "US"], JAN_US, 31 * DAY_US, first_id=first_id + b * per_batch
        )
        record_plays(app, rows)
    return batches * per_batch


def dump_views(db: ViewDB) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every view table, sorted: equal dumps mean equal read models."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    for model in MODELS.values():
        for table in model.tables:
            out[table] = sorted(db.execute(f"SELECT * FROM {table}"), key=repr)
    return out
