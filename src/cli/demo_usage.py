"""The demo's usage step: a month of generated plays and sales, ingested, with its quarantine.

Idempotent: the file is generated once per month under var/ (deterministic for the catalogue
and seed) and re-ingesting it accepts nothing new, so a second demo run adds no usage.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from cli.context import actor
from cli.output import console, table
from cli.usage import _render_summary
from ledger.application import RoyaltyLedger
from ledger.domain.period import Period
from ledger.usage.generator import GenerateOptions, generate_usage
from ledger.usage.ingest import ingest_files
from ledger.usage.listener import SECRET_ENV, create_listener_secret
from ledger.usage.pricing_commands import demo_pricing
from ledger.usage.quarantine import list_quarantine

DEMO_PLAYS = int(os.environ.get("ROYALTY_DEMO_PLAYS", "100000"))


def run(app: RoyaltyLedger, period: Period, as_json: bool) -> dict[str, Any]:
    if not os.environ.get(SECRET_ENV):
        create_listener_secret()  # var/listener.secret, kept for every later ingest
    if app.current_pricing() is None:
        app.set_pricing(demo_pricing("EUR"), "demo pricing", actor())
    out = Path("var") / f"usage-{period}.parquet"
    if not out.exists():
        generate_usage(app, GenerateOptions(plays=DEMO_PLAYS, period=period, seed=1), out)
    summary = ingest_files(app, [out], actor=actor(), batch_size=50_000).to_dict()
    held = list_quarantine(app)
    by_reason: dict[str, int] = {}
    for row in held:
        by_reason[row.reason] = by_reason.get(row.reason, 0) + 1
    doc = {"file": str(out), **summary, "quarantine_held": dict(sorted(by_reason.items()))}
    if not as_json:
        _render_summary(f"usage for {period} ({out})", doc)
        console.print(
            table("Quarantine held (royalty usage quarantine list)", ["reason", "rows"], sorted(by_reason.items()))
        )
    return doc
