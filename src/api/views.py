"""The read side as the API sees it: view connections, positions and lag, cached answers.

Also an optional projector that follows the log inside the server process.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from api.positions import wait_for_position
from ledger.application import RoyaltyLedger
from ledger.store.config import StoreConfig
from projections import queries
from projections.db import ViewDB
from projections.projector import Lag, Projector, lag

log = logging.getLogger("api.projector")
# A read model's position read this recently is good enough to answer a question without
# `min_position` (or one it satisfies): "up to the minute", a tenth of a second late at most.
RECENT_S = 0.1


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

    def position(self, models: Sequence[str]) -> int:
        """The position every named read model has folded up to (one indexed read each)."""
        found = {model: queries.as_of(self.db(), model) for model in models}
        now = time.monotonic()
        with self._seen_lock:
            self._seen.update({model: (at, now) for model, at in found.items()})
        return min(found.values())

    def recent_position(self, model: str) -> int | None:
        """The model's position as read less than RECENT_S ago, if it was (else None)."""
        with self._seen_lock:
            seen = self._seen.get(model)
        if seen is None or time.monotonic() - seen[1] > RECENT_S:
            return None
        return seen[0]

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
        if self._pool is not None:
            self._pool.close()


class ResultCache:
    """Answers of read-model queries, kept per (question, model position): a read model's
    figures cannot change until its position does, so a hit is exact, never stale."""

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._items: dict[Hashable, bytes] = {}
        self._latest: dict[Hashable, tuple[int, bytes]] = {}
        self._flights: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()

    def flight(self, question: Hashable) -> threading.Lock:
        """The lock under which `question` is computed (single flight)."""
        with self._lock:
            lock = self._flights.get(question)
            if lock is None:
                if len(self._flights) >= self._size:
                    self._flights.clear()  # only held briefly; a fresh lock is always correct
                lock = self._flights[question] = threading.Lock()
            return lock

    def get(self, key: Hashable) -> bytes | None:
        with self._lock:
            return self._items.get(key)

    def put(self, question: Hashable, position: int, value: bytes) -> None:
        with self._lock:
            if len(self._items) >= self._size:
                self._items.pop(next(iter(self._items)))
                self._latest.clear()
            self._items[(question, position)] = value
            if position >= self._latest.get(question, (-1, b""))[0]:
                self._latest[question] = (position, value)

    def latest(self, question: Hashable) -> tuple[int, bytes] | None:
        """The answer to `question` at the highest position answered so far."""
        with self._lock:
            return self._latest.get(question)


def consistent_read(
    read_side: ReadSide, model: str, question: Hashable, answer: Callable[[int], bytes], min_position: int | None
) -> bytes:
    """Run `answer(position)` so that its figures are exactly those at `position`.

    A position read in the last RECENT_S seconds that satisfies `min_position` answers from the
    cache without touching the store. Otherwise the model's position is read before and after
    the query: equal means no batch committed in between, so the answer is cached under it.
    Unequal, the answer (which may include the newer batch) is labelled with the earlier
    position — a lower bound, never an overstatement. While one request computes, others get
    the latest cached answer if it satisfies `min_position` (its `as_of` says which position).
    """
    cache = read_side.answers
    wanted = min_position or 0
    recent = read_side.recent_position(model)
    if recent is not None and recent >= wanted:
        cached = cache.get((question, recent))
        if cached is not None:
            return cached
    flight = cache.flight(question)
    if not flight.acquire(blocking=False):
        # Someone is computing the newer answer; the latest one stays exact for its own
        # position, so serve it (when it satisfies min_position) instead of queueing.
        latest = cache.latest(question)
        if latest is not None and latest[0] >= wanted:
            return latest[1]
        flight.acquire()
    try:
        before = read_side.position([model])
        cached = cache.get((question, before))
        if cached is not None:
            return cached
        body = answer(before)
        if read_side.position([model]) == before:
            cache.put(question, before, body)
        return body
    finally:
        flight.release()


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
