"""Closing rules: months close once each, in order without a gap once one has closed, only after
they end; --force (with a reason, recorded) closes a month early and never out of order."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ledger.application import RoyaltyLedger
from ledger.domain.period import Period
from projections.statements.close import CloseConflict, CloseRefused, close_period, engine_for


@pytest.fixture
def app(sqlite_config):
    ledger = RoyaltyLedger(sqlite_config, clock=lambda: datetime(2026, 4, 1, tzinfo=UTC))
    yield ledger
    ledger.close()


def test_months_close_once_in_order_and_force_only_closes_a_month_early(app, sqlite_config):
    with pytest.raises(CloseRefused, match="has not ended"):
        close_period(app, sqlite_config, Period(2026, 4), "t")
    close_period(app, sqlite_config, Period(2026, 1), "t")
    with pytest.raises(CloseConflict, match="already closed"):
        close_period(app, sqlite_config, Period(2026, 1), "t", force=True, reason="again")
    with pytest.raises(CloseConflict, match="2026-02 is still open"):
        close_period(app, sqlite_config, Period(2026, 3), "t")
    with pytest.raises(CloseConflict, match="--force cannot skip a month"):
        close_period(app, sqlite_config, Period(2026, 3), "t", force=True, reason="auditor asked")
    close_period(app, sqlite_config, Period(2026, 2), "t")
    close_period(app, sqlite_config, Period(2026, 3), "t")
    with pytest.raises(CloseRefused, match="needs --reason"):
        close_period(app, sqlite_config, Period(2026, 4), "t", force=True)
    close_period(app, sqlite_config, Period(2026, 4), "t", force=True, reason="auditor asked")
    recorded = engine_for(app, sqlite_config).history.closes["2026-04"]
    assert (recorded.forced, recorded.reason, recorded.previous_period) == (True, "auditor asked", "2026-03")


def test_a_month_below_a_later_closed_one_is_never_closed(app, sqlite_config):
    close_period(app, sqlite_config, Period(2026, 2), "t")  # the first close starts the chain
    head = app.head_position()
    with pytest.raises(CloseConflict, match=r"2026-01 cannot be closed, even with --force: a later period \(2026-02\)"):
        close_period(app, sqlite_config, Period(2026, 1), "t", force=True, reason="x")
    assert app.head_position() == head
    assert set(engine_for(app, sqlite_config).history.closes) == {"2026-02"}
