"""Demo step: a month of a subscription pool and a patronage pool, then the rules compared.

Before the month is closed (so the pools are on its statements): 2 100 subscribers pay 9.99 EUR
into "subscriptions" (user-centric, fallback pro-rata) — 100 of them played nothing; patrons
support two artists and a collective in "patronage" (equal share among the member artists for
the co-op's own 100.00 EUR). Idempotent: contributions are deduplicated by id.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from cli.context import actor
from cli.demo_catalogue import ARTISTS, slug
from cli.output import console
from cli.pools import render_comparison
from cli.statements import DEMO_PIE
from ledger.application import RoyaltyLedger
from ledger.domain.ids import party_id
from ledger.domain.period import Period
from projections.pools_compare import compare_pools
from projections.statements.close import engine_for

SUBSCRIBERS = 2_000  # listener-0 … listener-1999 (the demo usage's listeners) and 100 who never play
COLLECTIVE = "harbour-collective"


def _setup(app: RoyaltyLedger, period: Period) -> None:
    who = actor()
    if "subscriptions" not in app.pool_keys():
        app.configure_pool("subscriptions", "Listener subscriptions", "subscription", "EUR", who)
        app.set_pool_rule("subscriptions", {"method": "user-centric", "fallback": "pro-rata"}, str(period), "demo", who)
    if "patronage" not in app.pool_keys():
        if party_id(COLLECTIVE) not in app.repository:
            app.upsert_party(COLLECTIVE, "Harbour Collective", ["artist"], who)
        app.set_collective_members(
            COLLECTIVE,
            {slug(ARTISTS[2]): 500_000, slug(ARTISTS[3]): 300_000, slug(ARTISTS[4]): 200_000},
            str(period),
            who,
        )
        app.configure_pool("patronage", "Collective patronage", "patronage", "EUR", who)
        members = [slug(a) for a in ARTISTS]
        app.set_pool_rule("patronage", {"method": "equal-share", "eligible": members}, str(period), "demo", who)


def _contributions(period: Period) -> list[dict[str, Any]]:
    day = (period.start + timedelta(days=1, hours=9)).isoformat()
    rows: list[dict[str, Any]] = [
        {
            "contribution_id": f"sub-{period}-{n}",
            "pool": "subscriptions",
            "occurred_at": day,
            "amount": "9.99",
            "currency": "EUR",
            "listener": f"listener-{n}",
        }
        for n in range(SUBSCRIBERS)
    ]
    rows += [
        {
            "contribution_id": f"sub-{period}-quiet-{n}",
            "pool": "subscriptions",
            "occurred_at": day,
            "amount": "9.99",
            "currency": "EUR",
            "listener": f"quiet-listener-{n}",
        }
        for n in range(100)
    ]
    targets = [slug(ARTISTS[0]), slug(ARTISTS[1]), COLLECTIVE]
    rows += [
        {
            "contribution_id": f"patron-{period}-{n}",
            "pool": "patronage",
            "occurred_at": day,
            "amount": f"{3 + n % 5}.00",
            "currency": "EUR",
            "listener": f"listener-{n * 7}",
            "target": targets[n % 3],
        }
        for n in range(60)
    ]
    rows.append(
        {
            "contribution_id": f"coop-share-{period}",
            "pool": "patronage",
            "occurred_at": day,
            "amount": "100.00",
            "currency": "EUR",
            "funder": "coop",
        }
    )
    return rows


def run(app: RoyaltyLedger, period: Period, as_json: bool) -> dict[str, Any]:
    _setup(app, period)
    # The comparison goes through the recordings' rights pies: without one every recording's
    # pool money would show as suspense:no-rights-pie. The same demo pie the statements step records.
    if app.get_rights_pie() is None:
        app.set_rights_pie(DEMO_PIE, period.start, "demo: co-op 30 %, rights holders 70 %", actor())
    result = app.record_contributions(_contributions(period), "demo", actor(), origin="demo")
    engine = engine_for(app, app.config)
    comparison = compare_pools(app.config, engine.history, period, engine.history.upto)
    if not as_json:
        console.print(
            f"pools: {result.accepted} contributions recorded ({result.duplicates} already there); "
            "what each account would receive under each rule:"
        )
        render_comparison(comparison)
    return {"contributions": result.as_dict(), "comparison": comparison.as_dict()}
