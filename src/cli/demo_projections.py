"""The demo's projections step: run the projector, then show a party's earnings to date and the
top recordings of the month from the live read models."""

from __future__ import annotations

from typing import Any

from cli.context import actor
from cli.output import console, table
from cli.statements import DEMO_PIE
from ledger.application import RoyaltyLedger
from ledger.domain.money import format_micros
from ledger.domain.period import Period
from projections import queries
from projections.db import ViewDB
from projections.projector import Projector

PARTY = "aria-lune"


def run(app: RoyaltyLedger, period: Period, as_json: bool) -> dict[str, Any]:
    if app.get_rights_pie() is None:  # the same demo pie the statements step would record
        app.set_rights_pie(DEMO_PIE, period.start, "demo: co-op 30 %, rights holders 70 %", actor())
    db = ViewDB(app.config)
    try:
        folded = Projector(app, db).catch_up()
        lag = queries.lag(app, db)
        balance = queries.balance(app, db, PARTY)
        top = queries.top(db, what="recordings", period=str(period), limit=5)
    finally:
        db.close()
    doc = {
        "folded_positions": folded,
        "lag": lag,
        "party": PARTY,
        "earnings_to_date": balance["balances"],
        "top_recordings": top["rows"],
    }
    if not as_json:
        console.print(f"projector: folded {folded:,} positions; head {lag['head']:,}, behind {lag['behind']}")
        console.print(
            table(
                f"{PARTY}: earnings to date (live)",
                ["currency", "earned", "balance"],
                [
                    (b["currency"], format_micros(b["earned_micros"]), format_micros(b["balance_micros"]))
                    for b in balance["balances"]
                ],
            )
        )
        console.print(
            table(
                f"top recordings of {period}",
                ["isrc", "title", "plays", "gross"],
                [
                    (r["key"], r["title"], f"{r['plays']:,}", f"{format_micros(r['gross_micros'])} {r['currency']}")
                    for r in top["rows"]
                ],
            )
        )
    return doc
