"""Gift credits (issue 17): granted by the co-op or a friend, spent by stream2own plays, oldest
grant first, accounted apart by who funded them; the plays' earnings are the same."""

from __future__ import annotations

import pytest

from ledger.application import RoyaltyLedger
from ledger.domain.party import DomainError
from ledger.domain.period import Period
from ledger.pools.gifts import grant_gift
from ledger.usage.ingest import ingest_rows
from projections.gifts import gift_report
from tests.pools_helpers import SECRET, T, listener_secret  # noqa: F401
from tests.usage_helpers import ISRCS, build_catalogue, play

pytestmark = pytest.mark.usefixtures("listener_secret")


def test_gifts_pay_for_stream2own_plays_first_and_are_accounted_by_funder(store_config):
    app = RoyaltyLedger(store_config, clock=lambda: T(2026, 3, 5))
    try:
        build_catalogue(app)
        grant_gift(app, "g1", "newcomer", 10_000, "EUR", "t")  # the co-op: 0.010000
        grant_gift(app, "g2", "newcomer", 20_000, "EUR", "t", friend="old-friend")
        with pytest.raises(DomainError, match="granted before"):
            grant_gift(app, "g1", "newcomer", 1, "EUR", "t")
        # stream2own: the n-th counted play costs 2ⁿ thousandths of a credit (1 credit = 1 EUR):
        # 2 000, 4 000, 8 000, 16 000 → 30 000 µ; g1 pays 2 000 + 4 000 + 4 000 (of 8 000),
        # g2 pays 4 000 + 16 000; nothing is left of either.
        plays = [play(f"n{i}", isrc=ISRCS[0], listener="newcomer", at=f"2026-01-1{i + 1}T10:00:00Z") for i in range(4)]
        plays.append(play("other", isrc=ISRCS[0], listener="someone-else", at="2026-01-12T10:00:00Z"))
        assert ingest_rows(app, plays, actor="t", secret=SECRET.encode()).accepted == 5
        doc = gift_report(store_config, app.head_position(), Period(2026, 1))
        grants = {g["gift_id"]: (g["spent_micros"], g["remaining_micros"]) for g in doc["grants"]}
        assert grants == {"g1": (10_000, 0), "g2": (20_000, 0)}
        funders = {r["funded_by"].split(":")[0]: r["spent_in_period_micros"] for r in doc["by_funder"]}
        assert funders == {"coop": 10_000, "listener": 20_000}
        assert doc["plays_funded"] == 4
        assert all("newcomer" not in str(v) and "old-friend" not in str(v) for v in doc["grants"])
        later = grant_gift(app, "g3", "newcomer", 5_000_000, "EUR", "t")
        # a grant recorded after the plays does not pay for them
        assert next(g for g in gift_report(store_config, later)["grants"] if g["gift_id"] == "g3")["spent_micros"] == 0
    finally:
        app.close()
