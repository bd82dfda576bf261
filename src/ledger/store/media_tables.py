"""The media tables: uploads and fingerprints (side writes beside their events), worker tracking.

Each side write runs inside the transaction that records its events (see `recorders.py`), so
an upload's index row, a fingerprint, or the worker's new position commits with its event or
not at all. Reads go through the recorder's own connection pool, so no driver is imported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ledger.base import LedgerBase


def _pg(statement: str) -> str:
    return statement.replace("?", "%s")


@dataclass(frozen=True)
class UploadIndexed:
    """media_uploads row for an AudioUploaded event: which originals a recording has."""

    isrc: str
    sha256: str
    size_bytes: int

    _SQL = "INSERT INTO media_uploads (position, isrc, sha256, size_bytes) VALUES (?, ?, ?, ?)"

    def _row(self, positions: Sequence[int]) -> tuple[Any, ...]:
        return (positions[0], self.isrc, self.sha256, self.size_bytes)

    def write_sqlite(self, cursor: Any, positions: Sequence[int]) -> None:
        cursor.execute(self._SQL, self._row(positions))

    def write_postgres(self, cursor: Any, positions: Sequence[int]) -> None:
        cursor.execute(_pg(self._SQL), self._row(positions))


@dataclass(frozen=True)
class FingerprintIndexed:
    """media_fingerprints row for an AudioTranscoded event (the first position of its save)."""

    isrc: str
    sha256: str
    algorithm: int
    fingerprint: str

    _SQL = "INSERT INTO media_fingerprints (position, isrc, sha256, algorithm, fingerprint) VALUES (?, ?, ?, ?, ?)"

    def _row(self, positions: Sequence[int]) -> tuple[Any, ...]:
        return (positions[0], self.isrc, self.sha256, self.algorithm, self.fingerprint)

    def write_sqlite(self, cursor: Any, positions: Sequence[int]) -> None:
        cursor.execute(self._SQL, self._row(positions))

    def write_postgres(self, cursor: Any, positions: Sequence[int]) -> None:
        cursor.execute(_pg(self._SQL), self._row(positions))


@dataclass(frozen=True)
class WorkerAdvanced:
    """Moves a worker's tracking position forward (never back) with the outcome it records."""

    worker: str
    position: int
    at_us: int

    _SQL = "UPDATE media_worker_tracking SET position = ?, updated_at_us = ? WHERE worker = ? AND position < ?"

    def _row(self) -> tuple[Any, ...]:
        return (self.position, self.at_us, self.worker, self.position)

    def write_sqlite(self, cursor: Any, positions: Sequence[int]) -> None:
        cursor.execute(self._SQL, self._row())

    def write_postgres(self, cursor: Any, positions: Sequence[int]) -> None:
        cursor.execute(_pg(self._SQL), self._row())


class MediaTables:
    """Queries and standalone writes on the media tables, on either backend."""

    def __init__(self, app: LedgerBase) -> None:
        self.recorder: Any = app.recorder
        self.backend = app.config.backend

    def _run(self, statement: str, params: Sequence[Any] = (), *, write: bool = False) -> list[tuple[Any, ...]]:
        if self.backend == "sqlite":
            with self.recorder.datastore.transaction(commit=write) as c:
                c.execute(statement, tuple(params))
                return [tuple(r) for r in c.fetchall()]
        with self.recorder.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            curs.execute(_pg(statement), list(params))
            if curs.description is None:
                return []
            # The library's connections return dict rows; keep the columns' order.
            return [tuple(r.values()) if isinstance(r, dict) else tuple(r) for r in curs.fetchall()]

    def uploads_of(self, isrc: str) -> list[tuple[int, str]]:
        """(position, sha256) of every original uploaded for this recording, oldest first."""
        rows = self._run("SELECT position, sha256 FROM media_uploads WHERE isrc = ? ORDER BY position", [isrc])
        return [(int(p), str(s)) for p, s in rows]

    def fingerprints_after(self, position: int) -> list[tuple[int, str, str, int, str]]:
        """(position, isrc, sha256, algorithm, fingerprint) recorded after `position`."""
        rows = self._run(
            "SELECT position, isrc, sha256, algorithm, fingerprint FROM media_fingerprints "
            "WHERE position > ? ORDER BY position",
            [position],
        )
        return [(int(p), str(i), str(s), int(a), str(f)) for p, i, s, a, f in rows]

    def worker_position(self, worker: str, now_us: int) -> int:
        """The worker's tracking position, creating its row at 0 the first time."""
        self._run(
            "INSERT INTO media_worker_tracking (worker, position, updated_at_us) VALUES (?, 0, ?) "
            "ON CONFLICT (worker) DO NOTHING",
            [worker, now_us],
            write=True,
        )
        rows = self._run("SELECT position FROM media_worker_tracking WHERE worker = ?", [worker])
        return int(rows[0][0])

    def advance_worker(self, worker: str, position: int, now_us: int) -> None:
        """Move past positions that needed no outcome (an upload handled before)."""
        advanced = WorkerAdvanced(worker, position, now_us)
        self._run(advanced._SQL, advanced._row(), write=True)
