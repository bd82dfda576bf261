"""The read side as the API sees it: per-thread view connections, projector positions and lag,
and an optional projector that follows the log inside the server process."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Sequence

from api.positions import wait_for_position
from ledger.application import RoyaltyLedger
from projections.db import ViewDB
from projections.projector import Lag, Projector, lag

log = logging.getLogger("api.projector")


class ReadSide:
    """One ViewDB per worker thread (a connection is not shared across threads)."""

    def __init__(self, app: RoyaltyLedger) -> None:
        self.app = app
        self._local = threading.local()
        self._all: list[ViewDB] = []
        self._lock = threading.Lock()

    def db(self) -> ViewDB:
        db: ViewDB | None = getattr(self._local, "db", None)
        if db is None:
            db = ViewDB(self.app.config)
            self._local.db = db
            with self._lock:
                self._all.append(db)
        return db

    def lag(self, models: Sequence[str] = ()) -> Lag:
        return lag(self.app, self.db(), models)

    def position(self, models: Sequence[str]) -> int:
        """The position every named read model has folded up to."""
        return min(self.lag(models).positions.values())

    def wait(self, min_position: int | None, models: Sequence[str], timeout_s: float) -> None:
        """Read your writes: wait until `models` have folded `min_position` (503 after timeout)."""
        wait_for_position(self.app, min_position, lambda: self.position(models),
                          timeout_s=timeout_s, source=f"read model {'/'.join(models)}")

    def close(self) -> None:
        """Close the connections this thread can close; SQLite ones made by other (pool)
        threads may only be closed there, and are closed when collected."""
        with self._lock:
            for db in self._all:
                with contextlib.suppress(Exception):  # sqlite3 refuses a cross-thread close
                    db.close()
            self._all.clear()


class EmbeddedProjector:
    """A projector thread for single-process setups (`royalty serve` starts one by default).

    Safe beside other projectors: the projector locks and re-checks its tracking rows, so a
    batch is never folded twice whoever runs it.
    """

    def __init__(self, app: RoyaltyLedger, poll_seconds: float = 0.05) -> None:
        self.app, self.poll_seconds = app, poll_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="embedded-projector", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                projector = Projector(self.app)
                try:
                    projector.follow(self._stop, self.poll_seconds)
                finally:
                    projector.db.close()
            except Exception:
                log.exception("embedded projector failed; restarting in 1 s")
                self._stop.wait(1.0)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
