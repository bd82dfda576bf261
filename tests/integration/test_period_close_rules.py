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


def test_two_closes_of_one_month_at_once_record_one(store_config, monkeypatch):
    """Both closes pass the checks before either records (a barrier holds them there): the month's
    close has one id, so one is recorded and the other is refused as a conflict, recording nothing."""
    import threading

    from projections.statements import close as close_module

    clock = lambda: datetime(2026, 4, 1, tzinfo=UTC)  # noqa: E731
    apps = [RoyaltyLedger(store_config, clock=clock) for _ in range(2)]
    barrier = threading.Barrier(2, timeout=30)
    real = close_module.compute_statements

    def held(*args, **kwargs):
        result = real(*args, **kwargs)
        barrier.wait()  # both have checked and computed; neither has recorded
        return result

    monkeypatch.setattr(close_module, "compute_statements", held)
    outcomes: list[object] = []

    def close(app: RoyaltyLedger) -> None:
        try:
            outcomes.append(close_period(app, store_config, Period(2026, 1), "t"))
        except CloseConflict as refused:
            outcomes.append(refused)

    threads = [threading.Thread(target=close, args=(a,)) for a in apps]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        refused = [o for o in outcomes if isinstance(o, CloseConflict)]
        assert len(outcomes) == 2 and len(refused) == 1, outcomes
        assert "closed by another close at the same time" in str(refused[0])
        closes = [n for n in apps[0].read_log(1) if n.topic.endswith("PeriodClose.PeriodClosed")]
        assert len(closes) == 1
    finally:
        for a in apps:
            a.close()
