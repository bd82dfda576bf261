"""Closing rules: months close in order once one has closed, only after they end, once each;
--force needs a reason and is recorded."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ledger.application import RoyaltyLedger
from ledger.domain.period import Period
from projections.statements.close import CloseRefused, close_period, engine_for


@pytest.fixture
def app(sqlite_config):
    ledger = RoyaltyLedger(sqlite_config, clock=lambda: datetime(2026, 4, 1, tzinfo=UTC))
    yield ledger
    ledger.close()


def test_months_close_in_order_after_they_end_and_only_once(app, sqlite_config):
    with pytest.raises(CloseRefused, match="has not ended"):
        close_period(app, sqlite_config, Period(2026, 4), "t")
    close_period(app, sqlite_config, Period(2026, 1), "t")
    with pytest.raises(CloseRefused, match="already closed"):
        close_period(app, sqlite_config, Period(2026, 1), "t", force=True, reason="again")
    with pytest.raises(CloseRefused, match="2026-02 is still open"):
        close_period(app, sqlite_config, Period(2026, 3), "t")
    with pytest.raises(CloseRefused, match="needs --reason"):
        close_period(app, sqlite_config, Period(2026, 3), "t", force=True)
    close_period(app, sqlite_config, Period(2026, 3), "t", force=True, reason="auditor asked")
    recorded = engine_for(app, sqlite_config).history.closes["2026-03"]
    assert (recorded.forced, recorded.reason, recorded.previous_period) == (True, "auditor asked", "2026-01")
