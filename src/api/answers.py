"""Cached answers of read-model queries: exact for their position, refreshed off the request path."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from api.views import ReadSide

log = logging.getLogger("api.answers")
Answer = Callable[[int], bytes]


class ResultCache:
    """Answers kept per (question, model position): a read model's figures cannot change until
    its position does, so a hit is exact, never stale — it says which position it is as of."""

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._items: dict[Hashable, bytes] = {}
        self._latest: dict[Hashable, tuple[int, bytes]] = {}
        self._flights: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()
        self._background: ThreadPoolExecutor | None = None

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

    def later(self, work: Callable[[], object]) -> None:
        """Run `work` on a background thread (two at most), never on a request's."""
        with self._lock:
            if self._background is None:
                self._background = ThreadPoolExecutor(max_workers=2, thread_name_prefix="answers")
            background = self._background
        background.submit(work)

    def close(self) -> None:
        with self._lock:
            background, self._background = self._background, None
        if background is not None:
            background.shutdown(wait=True, cancel_futures=True)


def _compute(read_side: ReadSide, model: str, question: Hashable, answer: Answer) -> bytes:
    """The answer at the model's current position, cached when it provably is exactly that.

    The position is read before and after the query: equal means no batch committed in
    between. Unequal, the answer (which may include the newer batch) is labelled with the
    earlier position — a lower bound, never an overstatement — and not cached.
    """
    cache = read_side.answers
    before = read_side.position([model])
    cached = cache.get((question, before))
    if cached is not None:
        return cached
    body = answer(before)
    if read_side.position([model]) == before:
        cache.put(question, before, body)
    return body


def _refresh(read_side: ReadSide, model: str, question: Hashable, answer: Answer) -> None:
    flight = read_side.answers.flight(question)
    if not flight.acquire(blocking=False):
        return  # already being refreshed
    try:
        _compute(read_side, model, question, answer)
    except Exception:  # the next request tries again, on its own path if it must
        log.warning("refreshing a cached answer failed", exc_info=True)
    finally:
        flight.release()


def consistent_read(
    read_side: ReadSide, model: str, question: Hashable, answer: Answer, min_position: int | None
) -> bytes:
    """`answer(position)` for the newest position known, exactly as of the position it states.

    A cached answer at the model's recent position returns at once. When the model has moved
    on, the latest cached answer still returns at once (it is exact for the position it
    states) if it satisfies `min_position`, and the newer one is computed in the background.
    Only a question never answered, or a `min_position` beyond every cached answer, is
    computed on the request's path — one computation per question at a time.
    """
    cache = read_side.answers
    wanted = min_position or 0
    recent = read_side.recent_position(model)
    if recent is not None and recent >= wanted:
        cached = cache.get((question, recent))
        if cached is not None:
            return cached
        latest = cache.latest(question)
        if latest is not None and latest[0] >= wanted:
            cache.later(lambda: _refresh(read_side, model, question, answer))
            return latest[1]
    with cache.flight(question):
        return _compute(read_side, model, question, answer)
