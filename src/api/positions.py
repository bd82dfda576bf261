"""Log positions for the API: what a write recorded, and waiting until a read has caught up with it.

Every write answers with the position of its last event, so a client can pass it back as
`min_position` and read its own write. Positions of a request are captured per request
(a ContextVar: sync routes run whole in one worker thread, with their own context copy).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Recording

from ledger.application import RoyaltyLedger

_written: ContextVar[list[int] | None] = ContextVar("royalty_api_written", default=None)


class ApiLedger(RoyaltyLedger):
    """The ledger application as the API runs it: each save reports its positions."""

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        recordings: list[Recording[UUID]] = super().save(*objs, **kwargs)
        sink = _written.get()
        if sink is not None:
            sink.extend(r.notification.id for r in recordings)
        return recordings


@dataclass
class Written:
    """The positions recorded inside one `capture_writes` block."""

    positions: list[int] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.positions)

    def position(self, app: RoyaltyLedger) -> int:
        """The last position written, or the head when nothing changed (the state is there)."""
        return max(self.positions) if self.positions else app.head_position()


@contextmanager
def capture_writes() -> Iterator[Written]:
    written = Written()
    token = _written.set(written.positions)
    try:
        yield written
    finally:
        _written.reset(token)


class PositionNotReached(Exception):
    """A read asked for `min_position` and the source did not reach it in time."""

    def __init__(self, wanted: int, reached: int, head: int, waited_s: float, source: str) -> None:
        self.wanted, self.reached, self.head = wanted, reached, head
        self.waited_s, self.source = waited_s, source
        super().__init__(
            f"{source} is at position {reached}, behind the requested {wanted} "
            f"(head {head}) after waiting {waited_s:.1f} s"
        )


class PositionAhead(Exception):
    """`min_position` names a position the log has not written: no write answered with it."""

    def __init__(self, wanted: int, head: int) -> None:
        self.wanted, self.head = wanted, head
        super().__init__(f"position {wanted} is beyond the head of the log ({head})")


def wait_for_position(
    app: RoyaltyLedger,
    min_position: int | None,
    reached: Callable[[], int] | None = None,
    *,
    timeout_s: float = 2.0,
    source: str = "the log",
) -> None:
    """Return once `reached()` (default: the log's head) is at `min_position` or beyond.

    A position beyond the head raises PositionAhead (409); a projector still behind it after
    `timeout_s` raises PositionNotReached (503 with the lag).
    """
    if min_position is None or min_position <= 0:
        return
    head = app.head_position()
    if min_position > head:
        raise PositionAhead(min_position, head)
    if reached is None:
        return
    deadline = time.monotonic() + timeout_s
    started = time.monotonic()
    delay = 0.005
    while True:
        now_at = reached()
        if now_at >= min_position:
            return
        if time.monotonic() >= deadline:
            raise PositionNotReached(min_position, now_at, app.head_position(), time.monotonic() - started, source)
        time.sleep(delay)
        delay = min(delay * 2, 0.1)
