"""Concurrent writes to one record: re-decided a few times on fresh state, then 409 with a retry hint.

Two requests that change the same aggregate at once both read version N and both try to record
version N+1; the log's unique (originator_id, originator_version) lets one commit and the other's
whole transaction fail with IntegrityError — nothing of it is recorded. Running that request
again re-reads the record and re-decides, exactly as if it had arrived just after the other one,
which is what a client would do with the 409 anyway; so the route does that itself, a few times
with a short jittered pause. Only a request whose body cannot be replayed (a multipart upload:
its file stream is spent) or one that keeps losing the race answers 409 `write-conflict`, with
`Retry-After` and `retry_after_s`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Coroutine
from typing import Any

import anyio
from eventsourcing.persistence import IntegrityError
from fastapi import Request, Response
from fastapi.routing import APIRoute

ATTEMPTS = 6
FIRST_PAUSE_S = 0.01
RETRY_AFTER_S = 1


class WriteConflict(Exception):
    """A write that lost the race for a record `attempts` times in a row (409)."""

    def __init__(self, attempts: int) -> None:
        self.attempts = attempts
        super().__init__(
            "another request changed the same record at the same time; nothing of this request was "
            f"recorded (tried {attempts} time{'s' if attempts > 1 else ''}) — send it again"
        )


def _replayable(request: Request) -> bool:
    return not request.headers.get("content-type", "").lower().startswith("multipart/")


class ConflictRetryRoute(APIRoute):
    """A route whose request is run again on IntegrityError (the attempt recorded nothing)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def retrying(request: Request) -> Response:
            attempts = ATTEMPTS if _replayable(request) else 1
            for attempt in range(1, attempts + 1):
                try:
                    return await handler(request)
                except IntegrityError as exc:
                    if attempt == attempts:
                        raise WriteConflict(attempt) from exc
                    # Jitter, so that the losers of one race do not meet again in the next.
                    await anyio.sleep(random.uniform(0, FIRST_PAUSE_S * 2**attempt))
            raise AssertionError("unreachable")  # pragma: no cover

        return retrying
