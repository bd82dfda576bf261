"""Poison events: what a read model could not fold, recorded so that the projector goes on.

An event that makes a read model's fold raise (a NUL character PostgreSQL cannot store in a
text column, a stored state that no longer decodes, …) would otherwise fail its batch on every
attempt and hold every later position back for good: the log is append-only, so the event
stays. The projector finds it (the batch, then halves of it, each in a savepoint), records it
here with the error, and that model folds everything else. The record commits in the batch's
transaction, so exactly-once still holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from projections.db import ViewDB

MAX_ERROR_CHARS = 500
# C0 and C1 controls, DEL: an error message quoting the bad value must not carry them into the
# table (PostgreSQL refuses NUL) or into a terminal.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class FoldFailure:
    model: str
    position: int
    topic: str
    error: str
    recorded_at_us: int

    def to_dict(self) -> dict[str, Any]:
        at = datetime.fromtimestamp(self.recorded_at_us / 1_000_000, tz=UTC)
        return {
            "model": self.model,
            "position": self.position,
            "topic": self.topic,
            "error": self.error,
            "recorded_at": at.isoformat().replace("+00:00", "Z"),
        }


def describe(exc: BaseException) -> str:
    """The error's class and message, controls escaped, at most MAX_ERROR_CHARS characters."""
    text = f"{type(exc).__name__}: {exc}"
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


def record_failure(db: ViewDB, application: str, failure: FoldFailure) -> None:
    db.execute(
        "INSERT INTO projection_failures VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (application_name, model, position) DO NOTHING",
        [application, failure.model, failure.position, failure.topic, failure.error, failure.recorded_at_us],
    )


def failed_positions(db: ViewDB, application: str, model: str) -> set[int]:
    rows = db.execute(
        "SELECT position FROM projection_failures WHERE application_name = ? AND model = ?", [application, model]
    )
    return {int(p) for (p,) in rows}


def list_failures(db: ViewDB, application: str, models: list[str], *, limit: int | None = None) -> list[FoldFailure]:
    """Recorded failures of `models`, latest position first."""
    marks = ",".join("?" * len(models))
    rows = db.execute(
        "SELECT model, position, topic, error, recorded_at_us FROM projection_failures "
        f"WHERE application_name = ? AND model IN ({marks}) ORDER BY position DESC, model"
        + (f" LIMIT {int(limit)}" if limit is not None else ""),
        [application, *models],
    )
    return [FoldFailure(str(m), int(p), str(t), str(e), int(at)) for m, p, t, e, at in rows]


def count_failures(db: ViewDB, application: str, models: list[str]) -> int:
    marks = ",".join("?" * len(models))
    ((count,),) = db.execute(
        f"SELECT COUNT(*) FROM projection_failures WHERE application_name = ? AND model IN ({marks})",
        [application, *models],
    )
    return int(count)


def replace_failures(db: ViewDB, application: str, model: str, source: str) -> None:
    """A rebuild's swap: the model's failures become those the rebuild (`source`) found."""
    db.execute("DELETE FROM projection_failures WHERE application_name = ? AND model = ?", [application, model])
    db.execute(
        "UPDATE projection_failures SET model = ? WHERE application_name = ? AND model = ?",
        [model, application, source],
    )
