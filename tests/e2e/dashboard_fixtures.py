"""A store with two artists under one label, plays in the current month, a pending split proposal
and dashboard users for each — shared by the dashboard's HTTP tests and its browser tests."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from api.positions import ApiLedger
from api.users import create_user
from projections.db import ViewDB
from projections.queries import as_of
from tests.e2e.api_fixtures import ISRC_A, ISRC_B, Api, seed_catalogue, set_money_rules

PASSWORD = "correct horse battery"  # noqa: S105 - a test login
USERS = {"alice-user": "alice", "bob-user": "bob", "label-user": "label"}


def seed_dashboard(api: Api, now: datetime) -> None:
    admin = api.key("admin")
    seed_catalogue(api, admin)
    set_money_rules(api)
    for username, party in USERS.items():
        create_user(api.ledger, username, "party", party, PASSWORD, "test")
    create_user(api.ledger, "operator", "admin", None, PASSWORD, "test")
    report_plays(api, now, first=0, count=4)
    # A new master version for alice's recording that waits for the label's acceptance.
    r = api.client.post(
        "/v1/parties/alice/split-proposals",
        json={
            "right": "master",
            "subject_key": ISRC_A,
            "shares": {"alice": 800_000, "label": 200_000},
            "effective_from": (now - timedelta(days=1)).isoformat(),
            "reason": "new deal",
        },
        headers=api.key("party", "alice"),
    )
    assert r.status_code == 201, r.text


def report_plays(api: Api, now: datetime, *, first: int, count: int) -> int:
    when = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    if when.month != now.month:
        when = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    rows = [
        {
            "play_id": f"d{first + i}",
            "isrc": (ISRC_A, ISRC_B)[i % 2],
            "listener_id": f"listener-{first + i}",
            "territory": ("GB", "DE", "FR")[i % 3],
            "occurred_at": when.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "seconds_played": 120,
        }
        for i in range(count)
    ]
    r = api.client.post("/v1/usage/batches", json={"rows": rows}, headers=api.key("platform"))
    assert r.status_code == 200, r.text
    return int(r.json()["position"])


def wait_projected(ledger: ApiLedger, position: int) -> None:
    db = ViewDB(ledger.config)
    try:
        deadline = time.monotonic() + 20
        while min(as_of(db, m) for m in ("catalogue", "stats", "earnings")) < position:
            assert time.monotonic() < deadline, "the projector did not catch up"
            time.sleep(0.05)
    finally:
        db.close()
