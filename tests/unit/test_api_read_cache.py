"""consistent_read: cached answers are exact for their position; a moving position is never overstated."""

from __future__ import annotations

import threading
from typing import Any

from api.answers import ResultCache, consistent_read


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


def test_a_moved_model_answers_at_once_with_the_latest_exact_answer_and_refreshes_behind() -> None:
    side = FakeReadSide([6], recent=6)
    side.answers.put("q", 5, b"as of 5")
    refreshed = threading.Event()

    def answer(position: int) -> bytes:
        refreshed.set()
        return f"as of {position}".encode()

    try:
        assert consistent_read(side, "m", "q", answer, None) == b"as of 5"  # type: ignore[arg-type]
        assert refreshed.wait(5)
        side.answers.close()  # waits for the background refresh to finish
        assert side.answers.get(("q", 6)) == b"as of 6"
        assert consistent_read(side, "m", "q", answer, None) == b"as of 6"  # type: ignore[arg-type]
    finally:
        side.answers.close()


def test_a_min_position_beyond_every_cached_answer_is_computed_on_the_request() -> None:
    side = FakeReadSide([6], recent=6)
    side.answers.put("q", 5, b"as of 5")
    assert consistent_read(side, "m", "q", lambda p: f"as of {p}".encode(), 6) == b"as of 6"  # type: ignore[arg-type]
    side.answers.close()
