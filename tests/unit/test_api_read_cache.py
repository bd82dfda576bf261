"""consistent_read: cached answers are exact for their position; a moving position is never overstated."""

from __future__ import annotations

import threading
from typing import Any

from api.views import ResultCache, consistent_read


class FakeReadSide:
    """Positions served from a script; no store."""

    def __init__(self, positions: list[int], recent: int | None = None) -> None:
        self.positions, self.recent = positions, recent
        self.answers = ResultCache()

    def position(self, models: Any) -> int:
        return self.positions.pop(0) if len(self.positions) > 1 else self.positions[0]

    def recent_position(self, model: str) -> int | None:
        return self.recent


def test_a_stable_position_is_answered_once_then_from_the_cache() -> None:
    side = FakeReadSide([7])
    calls: list[int] = []

    def answer(position: int) -> bytes:
        calls.append(position)
        return f"as of {position}".encode()

    assert consistent_read(side, "m", "q", answer, None) == b"as of 7"  # type: ignore[arg-type]
    side.recent = 7
    assert consistent_read(side, "m", "q", answer, None) == b"as of 7"  # type: ignore[arg-type]
    assert calls == [7]


def test_an_answer_computed_while_the_position_moved_is_labelled_with_the_earlier_one_and_not_kept() -> None:
    side = FakeReadSide([7, 9, 9])
    calls: list[int] = []

    def answer(position: int) -> bytes:
        calls.append(position)
        return f"as of {position}".encode()

    assert consistent_read(side, "m", "q", answer, None) == b"as of 7"  # type: ignore[arg-type]
    assert side.answers.get(("q", 7)) is None and side.answers.latest("q") is None
    assert consistent_read(side, "m", "q", answer, None) == b"as of 9"  # type: ignore[arg-type]
    assert calls == [7, 9] and side.answers.latest("q") == (9, b"as of 9")


def test_while_one_computes_others_get_the_latest_answer_unless_min_position_needs_newer() -> None:
    side = FakeReadSide([5])
    side.answers.put("q", 5, b"as of 5")
    side.positions = [6]
    flight = side.answers.flight("q")
    flight.acquire()  # someone else is computing the answer at 6
    try:
        assert consistent_read(side, "m", "q", lambda p: b"never", None) == b"as of 5"  # type: ignore[arg-type]
        result: list[bytes] = []
        waiter = threading.Thread(
            target=lambda: result.append(consistent_read(side, "m", "q", lambda p: b"as of 6", 6))  # type: ignore[arg-type]
        )
        waiter.start()
        waiter.join(0.2)
        assert waiter.is_alive() and result == []  # min_position 6: it waits for the newer answer
    finally:
        flight.release()
    waiter.join(5)
    assert result == [b"as of 6"]
