"""The projector: folds the log into read models in batches, exactly once.

Each step reads up to `batch_size` notifications after the tracked position (one
`select_notifications` call), folds them into every read model at that position and writes the
new position into `projection_tracking` — all in one transaction. A crash anywhere rolls the
whole batch back, and the next run starts from the last committed position: nothing lost,
nothing counted twice. An event a model cannot fold (a poison event) does not stop it: each
model folds in a savepoint, a failed fold is retried in halves down to the one event, which
is recorded in `projection_failures` (projections.failures) and skipped by that model alone.
The tracking rows are locked and re-checked inside the transaction, so a second projector (or
a rebuild's swap) running at the same time cannot fold a batch twice.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from ledger.application import RoyaltyLedger
from ledger.store.config import StoreConfig
from projections.catalogue_view import CatalogueView, epoch_us
from projections.db import TRANSIENT_ERRORS, ViewDB
from projections.earnings_view import EarningsView
from projections.failures import FoldFailure, count_failures, describe, failed_positions, record_failure
from projections.readmodel import REBUILD_SUFFIX, Batch, ReadModel
from projections.stats_view import StatsView

APPLICATION_NAME = RoyaltyLedger.name
EVENTS_CHANNEL = "stored_events"  # eventsourcing NOTIFYs the events table's name on insert
MODELS: dict[str, type[ReadModel]] = {m.name: m for m in (CatalogueView, StatsView, EarningsView)}
DEFAULT_BATCH = 5_000
# Tables whose rows are updated batch after batch; set at start-up rather than in 0003, which
# kept stores have already applied.
UPSERTED_TABLES = (
    "stats_minute",
    "stats_source_hour",
    "stats_day",
    "stats_total",
    "earn_gross_day",
    "earn_account_day",
    "earn_party_total",
    "earn_party_day",
)


class _Moved(Exception):
    """Another projector or a rebuild advanced a tracking row since it was read."""


@dataclass(frozen=True)
class Lag:
    head: int
    positions: dict[str, int]
    behind: int
    seconds: float | None  # age of the oldest event not yet folded; 0 when caught up
    failed_events: int = 0  # poison events recorded for these models (projections.failures)


class Projector:
    def __init__(
        self,
        app: RoyaltyLedger,
        db: ViewDB | None = None,
        *,
        models: Sequence[str] = (),
        batch_size: int = DEFAULT_BATCH,
        rebuild: bool = False,
    ) -> None:
        unknown = sorted(set(models) - set(MODELS))
        if unknown:
            raise ValueError(f"unknown read model(s) {', '.join(unknown)}; expected {sorted(MODELS)}")
        self.app = app
        self.db = db or ViewDB(app.config)
        self.batch_size = batch_size
        suffix = REBUILD_SUFFIX if rebuild else ""
        self.models = {name + suffix: MODELS[name](app, rebuild=rebuild) for name in (models or MODELS)}
        for model in self.models.values():
            for table in UPSERTED_TABLES:
                if table in model.t:
                    self.db.ensure_fillfactor(model.t[table], 70)
        now = epoch_us(app.clock())
        for key in self.models:
            self.db.execute(
                "INSERT INTO projection_tracking VALUES (?, ?, 0, ?) ON CONFLICT (application_name, model) DO NOTHING",
                [APPLICATION_NAME, key, now],
            )
            self.models[key].skipped = failed_positions(self.db, APPLICATION_NAME, key)

    def positions(self, *, lock: bool = False) -> dict[str, int]:
        keys = list(self.models)
        marks = ",".join("?" * len(keys))
        rows = self.db.execute(
            "SELECT model, position FROM projection_tracking WHERE application_name = ? "
            f"AND model IN ({marks})" + (" FOR UPDATE" if lock and self.db.backend == "postgres" else ""),
            [APPLICATION_NAME, *keys],
        )
        return {str(m): int(p) for m, p in rows}

    def step(self) -> int:
        """Fold one batch; return how many positions it advanced (0 when at the head)."""
        positions = self.positions()
        start = min(positions.values())
        group = [k for k, p in positions.items() if p == start]
        ahead = [p for p in positions.values() if p > start]
        stop = min(ahead) if ahead else None
        if start >= self.app.head_position():
            return 0
        notes = self.app.recorder.select_notifications(start + 1, self.batch_size, stop=stop)
        if not notes and stop is None:
            return 0
        hi = notes[-1].id if notes and (len(notes) == self.batch_size or stop is None) else stop
        assert hi is not None
        batch = Batch(lo=start + 1, hi=hi, notifications=notes)
        self._skipped_now: list[tuple[str, int]] = []
        try:
            with self.db.transaction():
                current = self.positions(lock=True)
                if any(current[k] != start for k in group):
                    raise _Moved
                for key in group:
                    self._fold(key, batch)
                self.db.execute(
                    "UPDATE projection_tracking SET position = ?, updated_at_us = ? "
                    f"WHERE application_name = ? AND model IN ({','.join('?' * len(group))})",
                    [hi, epoch_us(self.app.clock()), APPLICATION_NAME, *group],
                )
        except _Moved:
            self._forget()
            return -1
        except BaseException:
            self._forget()
            for key, position in self._skipped_now:  # rolled back with the batch: not recorded
                self.models[key].skipped.discard(position)
            raise
        return hi - start

    def _fold(self, key: str, batch: Batch) -> None:
        """Fold `batch` into one model; a poison event in it is recorded and skipped.

        A failed fold is undone (its savepoint) and retried as two halves, down to single
        events: one poison event costs about two extra folds of the batch, not one per event.
        """
        model = self.models[key]
        try:
            with self.db.savepoint():
                model.fold(self.db, batch)
            return
        except TRANSIENT_ERRORS:
            raise
        except Exception as exc:
            model.reset_caches()
            notes = batch.notifications
            if not notes:
                raise  # no event to blame: not a poison event
            if len(notes) == 1:
                failure = FoldFailure(key, notes[0].id, notes[0].topic, describe(exc), epoch_us(self.app.clock()))
                record_failure(self.db, APPLICATION_NAME, failure)
                model.skipped.add(notes[0].id)
                self._skipped_now.append((key, notes[0].id))
                return
        half = len(notes) // 2
        cut = notes[half - 1].id
        self._fold(key, Batch(lo=batch.lo, hi=cut, notifications=notes[:half]))
        self._fold(key, Batch(lo=cut + 1, hi=batch.hi, notifications=notes[half:]))

    def _forget(self) -> None:
        for model in self.models.values():
            model.reset_caches()

    def catch_up(self) -> int:
        """Fold until every model is at the head as it was when the last step began."""
        advanced = 0
        while (moved := self.step()) != 0:
            advanced += max(moved, 0)
        return advanced

    def follow(self, stop: threading.Event, poll_seconds: float = 0.5) -> None:
        """Catch up, then wait for new events (LISTEN/NOTIFY on PostgreSQL, polling on SQLite)."""
        listener = self.db.listen(EVENTS_CHANNEL) if self.db.backend == "postgres" else None
        try:
            while not stop.is_set():
                self.catch_up()
                if listener is not None:
                    for _ in listener.notifies(timeout=poll_seconds, stop_after=1):
                        pass
                else:
                    stop.wait(poll_seconds)
        finally:
            if listener is not None:
                listener.close()

    def lag(self) -> Lag:
        return lag(self.app, self.db, list(self.models))


def lag(app: RoyaltyLedger, db: ViewDB, models: Sequence[str] = ()) -> Lag:
    """Positions and seconds the read models are behind the head of the log."""
    wanted = list(models or MODELS)
    marks = ",".join("?" * len(wanted))
    rows = db.execute(
        f"SELECT model, position FROM projection_tracking WHERE application_name = ? AND model IN ({marks})",
        [APPLICATION_NAME, *wanted],
    )
    positions = {name: 0 for name in wanted} | {str(m): int(p) for m, p in rows}
    head = app.head_position()
    oldest = min(positions.values())
    seconds: float | None = 0.0
    if oldest < head:
        seconds = None
        notes = app.recorder.select_notifications(oldest + 1, 1)
        try:
            recorded = app.decode(notes[0]).timestamp
            seconds = max(0.0, (app.clock() - recorded).total_seconds())
        except Exception:
            seconds = None
    failed = count_failures(db, APPLICATION_NAME, wanted)
    return Lag(head=head, positions=positions, behind=head - oldest, seconds=seconds, failed_events=failed)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m projections.projector [--follow]`: the projector as a plain process."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--follow", action="store_true")
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH)
    parser.add_argument("--model", action="append", default=[])
    args = parser.parse_args(argv)
    app = RoyaltyLedger(StoreConfig.from_env())
    projector = Projector(app, models=args.model, batch_size=args.batch_size)
    started = time.perf_counter()
    if args.follow:
        projector.follow(threading.Event())
    folded = projector.catch_up()
    print(f"projector: folded {folded} positions in {time.perf_counter() - started:.3f}s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
