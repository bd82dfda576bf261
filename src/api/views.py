"""The read side as the API sees it: view connections, read-model positions and lag.

Also an optional projector that follows the log inside the server process.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Sequence
from typing import Any

from api.answers import ResultCache
from api.positions import wait_for_position
from ledger.application import RoyaltyLedger
from ledger.store.config import StoreConfig
from projections import queries
from projections.db import ViewDB
from projections.failures import FoldFailure, list_failures
from projections.projector import APPLICATION_NAME, MODELS, Lag, Projector, lag

log = logging.getLogger("api.projector")
# Read models' positions are re-read in the background this often, so a request without
# `min_position` needs no store round trip to know what "now" is ...
WATCH_S = 0.05
# ... and one read this recently is good enough for it ("up to the minute", under a second).
MAX_AGE_S = 1.0


class PooledViews:
    """ViewDB's `execute` over a bounded pool of PostgreSQL connections.

    Each statement borrows any idle connection (psycopg connections may move between
    threads, one user at a time), so worker threads that come and go never strand a
    connection. Read-model queries are single autocommit statements, so nothing is lost by
    running consecutive ones on different connections.
    """

    backend = "postgres"

    def __init__(self, config: StoreConfig, size: int) -> None:
        self.config, self.size = config, size
        self._idle: queue.LifoQueue[ViewDB] = queue.LifoQueue()
        self._opened = 0
        self._lock = threading.Lock()

    def _borrow(self) -> ViewDB:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            grow = self._opened < self.size
            self._opened += grow
        return ViewDB(self.config) if grow else self._idle.get(timeout=30)

    def execute(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        db = self._borrow()
        try:
            rows = db.execute(statement, params)
        except BaseException:
            with self._lock:  # the connection may be broken: never hand it out again
                self._opened -= 1
            with contextlib.suppress(Exception):
                db.close()
            raise
        self._idle.put(db)
        return rows

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return


class ReadSide:
    """Connections to the read models: a shared pool on PostgreSQL; on SQLite (whose
    connections stay in the thread that made them) one per worker thread, closed when the
    thread ends and its thread-local storage is collected."""

    def __init__(self, app: RoyaltyLedger, pool_size: int = 16) -> None:
        self.app = app
        self._local = threading.local()
        self._pool = PooledViews(app.config, pool_size) if app.config.backend == "postgres" else None
        self.answers = ResultCache()
        self._seen: dict[str, tuple[int, float]] = {}
        self._seen_lock = threading.Lock()
        self._watched: set[str] = set()
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    def db(self) -> Any:
        """Something with ViewDB's `execute` and `backend`, for projections.queries."""
        if self._pool is not None:
            return self._pool
        db: ViewDB | None = getattr(self._local, "db", None)
        if db is None:
            db = ViewDB(self.app.config)
            self._local.db = db
        return db

    def lag(self, models: Sequence[str] = ()) -> Lag:
        return lag(self.app, self.db(), models)

    def fold_failures(self, *, limit: int) -> list[FoldFailure]:
        return list_failures(self.db(), APPLICATION_NAME, list(MODELS), limit=limit)

    def position(self, models: Sequence[str]) -> int:
        """The position every named read model has folded up to (one indexed read each)."""
        found = {model: queries.as_of(self.db(), model) for model in models}
        now = time.monotonic()
        with self._seen_lock:
            self._seen.update({model: (at, now) for model, at in found.items()})
        return min(found.values())

    def recent_position(self, model: str) -> int | None:
        """The model's position as read less than MAX_AGE_S ago (by the background watcher,
        every WATCH_S, or by a request), if it was; else None."""
        with self._seen_lock:
            seen = self._seen.get(model)
            if model not in self._watched:
                self._watched.add(model)
                if self._watcher is None:
                    self._watcher = threading.Thread(target=self._watch, name="read-model-positions", daemon=True)
                    self._watcher.start()
        if seen is None or time.monotonic() - seen[1] > MAX_AGE_S:
            return None
        return seen[0]

    def _watch(self) -> None:
        while not self._stop.wait(WATCH_S):
            with self._seen_lock:
                models = sorted(self._watched)
            try:
                self.position(models)
            except Exception:  # a store hiccup: requests read positions themselves meanwhile
                log.warning("reading read-model positions failed", exc_info=True)

    def wait(self, min_position: int | None, models: Sequence[str], timeout_s: float) -> None:
        """Read your writes: wait until `models` have folded `min_position` (503 after timeout)."""
        wait_for_position(
            self.app,
            min_position,
            lambda: self.position(models),
            timeout_s=timeout_s,
            source=f"read model {'/'.join(models)}",
        )

    def close(self) -> None:
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=5)
        self.answers.close()
        if self._pool is not None:
            self._pool.close()


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
