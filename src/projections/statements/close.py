"""Closing a period (PeriodClosed with totals and statement hashes) and replaying it from the log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.persistence import IntegrityError

from ledger.application import RoyaltyLedger
from ledger.domain.party import DomainError
from ledger.domain.period import Period
from ledger.royalties import RightsHistory, read_rights_history
from ledger.store.config import StoreConfig
from projections.statements.compute import without_cyclic_gc as _without_cyclic_gc
from projections.statements.statement import (
    StatementEngine,
    build_statement,
    statement_hash,
    totals_of,
)
from projections.statements.usage import UsageReader, prefetch_usage


class CloseRefused(DomainError):
    """A close the rules refuse (month not ended); --force, with a reason, overrides it."""


class CloseConflict(CloseRefused):
    """A close that conflicts with the closes already recorded; refused even with --force.

    A month closes once. Each statement opens at the closing balances of the latest closed
    month before it, so the closed months run without a gap from the first one: a month closed
    below a later closed one (or past an open one) would have money that no later statement's
    balances carry, and the money equation at the later close would fail (docs/accounting.md,
    "Closing out of order").
    """


@dataclass
class PeriodStatements:
    period: Period
    as_of: int
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    _hashes: dict[str, str] | None = None

    @property
    def hashes(self) -> dict[str, str]:
        if self._hashes is None:
            with _without_cyclic_gc():
                self._hashes = {a: statement_hash(doc) for a, doc in sorted(self.documents.items())}
        return self._hashes

    @property
    def totals(self) -> dict[str, dict[str, dict[str, int]]]:
        return {account: totals_of(doc) for account, doc in sorted(self.documents.items())}


def engine_for(
    app: RoyaltyLedger,
    config: StoreConfig,
    upto: int | None = None,
    *,
    history: RightsHistory | None = None,
    prefetch: Sequence[tuple[Period, int]] = (),
    usage: UsageReader | None = None,
) -> StatementEngine:
    """A statement engine over the rights history up to `upto` (head); `history`, read earlier
    from this store, is continued from where it stopped instead of read again. The usage of each
    (period, as_of) in `prefetch` is pre-summed by the store while the history is read — unless
    `usage` names another reader (e.g. Spark over the usage archive), which sums it instead."""
    if usage is not None:
        prefetch = ()
    started = {(period, as_of): prefetch_usage(config, period, as_of) for period, as_of in prefetch}
    try:
        with _without_cyclic_gc():
            engine = StatementEngine(config, read_rights_history(app, upto, into=history))
    except BaseException:
        for future in started.values():
            future.cancel()
        raise
    engine.prefetched.update(started)
    engine.usage = usage
    return engine


def compute_statements(
    engine: StatementEngine, period: Period, as_of: int, *, display: bool = True
) -> PeriodStatements:
    """Every account's statement for the period as known at `as_of` (`display`: with the
    display-only fields people read; hashes and totals are the same without them)."""
    out = PeriodStatements(period, as_of)
    with _without_cyclic_gc():
        for account in sorted(engine.accounts(period, as_of)):
            out.documents[account] = build_statement(engine, account, period, as_of, display=display)
    return out


def check_not_closed(app: RoyaltyLedger, period: Period) -> None:
    if app.is_period_closed(period):
        raise CloseConflict(f"period {period} is already closed; a closed month is never closed again")


def check_close_order(app: RoyaltyLedger, engine: StatementEngine, period: Period) -> None:
    """The rules --force cannot override: once only, and in order (no gap, nothing below)."""
    check_not_closed(app, period)
    closed = sorted(Period.parse(p) for p in engine.history.closes)
    if closed and period < closed[-1]:
        raise CloseConflict(
            f"period {period} cannot be closed, even with --force: a later period ({closed[-1]}) is "
            f"already closed. Each statement opens at the previous close's balances, and the "
            f"statements from {closed[0]} on were issued without {period}, so no balance would carry "
            f"its money and the money equation at {closed[-1]}'s close would fail "
            f'(docs/accounting.md, "Closing out of order")'
        )
    if closed and period.previous() != closed[-1]:
        raise CloseConflict(
            f"period {period.previous()} is still open; close it first (closed months run without a gap "
            f"from {closed[0]}, so that every month's money is on a statement; --force cannot skip a month)"
        )


def check_close_allowed(app: RoyaltyLedger, engine: StatementEngine, period: Period) -> None:
    check_close_order(app, engine, period)
    now = app.clock()
    if period.end > now:
        raise CloseRefused(f"period {period} has not ended yet (it ends {period.end.isoformat()})")


def close_period(
    app: RoyaltyLedger,
    config: StoreConfig,
    period: Period,
    actor: str,
    *,
    force: bool = False,
    reason: str = "",
    display: bool = False,
    usage: UsageReader | None = None,
) -> PeriodStatements:
    """Compute every statement at the current head and record PeriodClosed with their hashes
    (the documents returned carry the display-only fields only with `display`).

    --force (with a reason, recorded) closes a month before it has ended; nothing closes a month
    out of order (`CloseConflict`)."""
    # Refused before the usage pre-sum starts (it would run to its end for nothing); the rest of
    # the order rules need the rights history, read while the store sums.
    check_not_closed(app, period)
    as_of = app.head_position()
    engine = engine_for(app, config, as_of, prefetch=[(period, as_of)], usage=usage)
    try:
        check_close_allowed(app, engine, period)
    except CloseConflict:
        raise
    except CloseRefused:
        if not force:
            raise
        if not reason.strip():
            raise CloseRefused("a forced close needs --reason") from None
    statements = compute_statements(engine, period, as_of, display=display)
    previous = engine.previous_close(period, as_of)
    try:
        app.record_period_close(
            period,
            as_of,
            previous.period if previous else None,
            statements.totals,
            statements.hashes,
            actor,
            forced=force,
            reason=reason,
        )
    except (IntegrityError, DomainError):
        # A month's close has one id: two closes of it at once cannot both be recorded, and the
        # one that lost (found closed just before its save, or refused by the store) recorded nothing.
        if not app.is_period_closed(period):
            raise
        raise CloseConflict(
            f"period {period} was closed by another close at the same time; a closed month is never closed again"
        ) from None
    return statements


@dataclass
class ReplayReport:
    period: str
    as_of: int
    compared: int
    differences: list[dict[str, Any]]

    @property
    def ok(self) -> bool:
        return not self.differences

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "period": self.period,
            "as_of_position": self.as_of,
            "compared": self.compared,
            "differences": self.differences,
        }


def replay_period(
    app: RoyaltyLedger, config: StoreConfig, period: Period, usage: UsageReader | None = None
) -> ReplayReport:
    """Recompute the closed period at its recorded as-of position; compare every hash."""
    recorded = app.period_close(period)
    if recorded is None:
        raise DomainError(f"period {period} has not been closed")
    engine = engine_for(app, config, prefetch=[(period, recorded.as_of_position)], usage=usage)
    close = engine.history.closes[str(period)]
    statements = compute_statements(engine, period, close.as_of_position, display=False)
    recomputed = statements.hashes
    differences = [
        {"account": account, "recorded": close.statement_hashes.get(account), "replayed": recomputed.get(account)}
        for account in sorted(set(recomputed) | set(close.statement_hashes))
        if recomputed.get(account) != close.statement_hashes.get(account)
    ]
    return ReplayReport(str(period), close.as_of_position, len(recomputed), differences)
