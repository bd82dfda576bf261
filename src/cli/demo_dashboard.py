"""The demo's dashboard step: logins for a demo artist and label, plays in the current month (so
the overview has this month's earnings to show, live), a split proposal waiting for the label,
and the address to open."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from api.users import create_user, get_user
from cli.context import actor
from cli.output import console
from ledger.application import NotFound, RoyaltyLedger
from ledger.domain.period import Period
from ledger.usage.ingest import ingest_rows
from projections.db import ViewDB
from projections.projector import Projector

# Demo logins only: a demo store is for trying the product out, never for real data.
DEMO_PASSWORD = "demo-dashboard-2026"  # noqa: S105 - printed for the demo on purpose
USERS = {"aria": "aria-lune", "night-owl": "night-owl"}
ARTIST, LABEL = "aria-lune", "night-owl"
PLAYS = 400


def run(app: RoyaltyLedger, period: Period, as_json: bool) -> dict[str, Any]:
    for username, party in USERS.items():
        try:
            get_user(app, username)
        except NotFound:
            create_user(app, username, "party", party, DEMO_PASSWORD, actor())
    # A profile to start from (the demo artist edits it on /profile); the same content again
    # records nothing.
    app.update_profile(
        ARTIST,
        actor(),
        biography="Aria Lune writes and records night songs.\nThis profile is demo content: edit it on /profile.",
        links=[{"label": "Co-op page", "url": "https://example.org/aria-lune"}],
    )
    db = ViewDB(app.config)
    try:
        Projector(app, db).catch_up()
        shared = [
            str(r[0])
            for r in db.execute(
                "SELECT subject_key FROM cat_split_holders WHERE right_type = 'master' AND party_key = ? "
                "INTERSECT SELECT subject_key FROM cat_split_holders WHERE right_type = 'master' AND party_key = ? "
                "ORDER BY 1",
                [ARTIST, LABEL],
            )
        ]
        now = app.clock()
        this_month = Period.containing(now)
        summary = ingest_rows(app, _plays(shared, max(this_month.start, now - timedelta(hours=6)), now), actor=actor())
        proposal = _proposal(app, shared, now)
        Projector(app, db).catch_up()
    finally:
        db.close()
    doc = {
        "users": {u: {"party": p, "password": DEMO_PASSWORD} for u, p in USERS.items()},
        "plays_this_month": summary.to_dict().get("accepted", 0),
        "proposal_for_label": proposal,
        "dashboard": "royalty serve, then open http://127.0.0.1:8000/",
    }
    return doc


def print_address() -> None:
    """The last lines of `royalty demo`: where the dashboard is and how to log in."""
    console.print(
        "dashboard: run [bold].venv/bin/royalty serve[/] and open [bold]http://127.0.0.1:8000/[/]\n"
        f"  log in as [bold]aria[/] (artist Aria Lune) or [bold]night-owl[/] (the label; a split proposal "
        f"waits), password [bold]{DEMO_PASSWORD}[/] (demo store only)",
        soft_wrap=True,
        highlight=False,
    )


def _plays(isrcs: list[str], start: Any, end: Any) -> list[dict[str, Any]]:
    if not isrcs:
        return []
    rng = random.Random(19)
    span = max(int((end - start).total_seconds()) - 60, 1)
    return [
        {
            "play_id": f"demo-now-{start:%Y%m}-{i}",
            "isrc": rng.choice(isrcs),
            "listener_id": f"demo-listener-{rng.randrange(80)}",
            "territory": rng.choice(("DE", "GB", "FR", "SE", "US", "NL")),
            "occurred_at": (start + timedelta(seconds=rng.randrange(span))).isoformat(),
            "seconds_played": rng.choice((30, 95, 180, 240)),
        }
        for i in range(PLAYS)
    ]


def _proposal(app: RoyaltyLedger, shared: list[str], now: Any) -> dict[str, Any] | None:
    """A new master version proposed by the artist, waiting for the label (once per store)."""
    if app.proposals_awaiting(LABEL) or not shared:
        return None
    isrc = shared[-1]  # not the first recording: its mid-month change is the demo's other story
    version = app.get_split("master", isrc).version_in_force(now)
    if version is None or LABEL not in version["shares"] or ARTIST not in version["shares"]:
        return None
    shares = dict(version["shares"])
    moved = min(50_000, shares[LABEL])
    shares[LABEL] -= moved
    shares[ARTIST] += moved
    shares = {k: v for k, v in shares.items() if v}
    _agreement, number = app.propose_split(
        "master",
        isrc,
        shares,
        now,
        ARTIST,
        "party:aria-lune",
        reason="more to the artist from now on",
        by_operator=False,
    )
    return {"isrc": isrc, "version": number, "shares": shares}
