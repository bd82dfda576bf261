"""PeriodClose: the record that a month was closed, with every party's totals and statement hashes.

The statements are a pure function of (party, period, as_of_position); the close records the
as-of position it computed at, so replay recomputes at exactly that position. One aggregate per
period (deterministic id), so a period can be closed only once, even by two racing closers.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from ledger.domain.ids import NAMESPACE


def period_close_id(period: str) -> UUID:
    return uuid5(NAMESPACE, f"period-close:{period}")


class PeriodClose(Aggregate):
    @staticmethod
    def create_id(period: str, **_: Any) -> Any:
        return period_close_id(period)

    @event("PeriodClosed")
    def __init__(
        self,
        period: str,
        as_of_position: int,
        previous_period: str | None,
        account_totals: dict[str, dict[str, dict[str, int]]],
        statement_hashes: dict[str, str],
        forced: bool,
        reason: str,
        actor: str,
    ) -> None:
        # account_totals: account → currency → {opening, earnings, adjustments, payouts, closing}
        self.period = period
        self.as_of_position = as_of_position
        self.previous_period = previous_period
        self.account_totals = account_totals
        self.statement_hashes = statement_hashes
        self.forced = forced
        self.reason = reason
