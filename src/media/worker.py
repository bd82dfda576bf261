"""The media worker: follows AudioUploaded from its own tracking position and records outcomes.

Each upload's outcome (AudioTranscoded, with any DuplicateAudioSuspected, or TranscodeFailed)
is saved together with the worker's new tracking position, in one transaction. Exactly once:
- a crash before that commit leaves the upload pending and the position behind it, so the
  next run does it again (renditions are content-addressed and published atomically, and
  `-fflags +bitexact` makes them the same bytes, so nothing is half-published or doubled);
- a crash after it leaves nothing to redo: the position is past the upload;
- and should two workers race, the outcome is the asset's version 2, which the store
  accepts once: the loser is told and just moves its position on.
PostgreSQL wakes the worker with LISTEN/NOTIFY on the events table's channel; SQLite polls.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from eventsourcing.persistence import Notification

from ledger.application import RoyaltyLedger
from ledger.audio import OutcomeAlreadyRecorded
from ledger.domain.audio import AudioAsset
from ledger.store.config import StoreConfig
from ledger.store.media_tables import MediaTables
from media.config import MediaConfig
from media.fingerprint import MIN_COVERAGE_BP, Fingerprint, compare
from media.pipeline import Failed, Transcoded, blob_store, process_upload
from projections.db import ViewDB
from projections.projector import EVENTS_CHANNEL

WORKER_NAME = "media"
PAGE = 50
MAX_DUPLICATES = 5  # the closest few are enough for a person to look at


@dataclass(frozen=True)
class Outcome:
    """What the worker did with the upload at `position`."""

    position: int
    isrc: str
    sha256: str
    status: str  # ready | failed | skipped (its outcome was recorded before)
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _micros(app: RoyaltyLedger) -> int:
    at = app.clock()
    return int(at.timestamp()) * 1_000_000 + at.microsecond


class MediaWorker:
    def __init__(
        self,
        app: RoyaltyLedger,
        config: MediaConfig | None = None,
        *,
        name: str = WORKER_NAME,
        page: int = PAGE,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.app = app
        self.config = config or MediaConfig.from_env()
        self.name = name
        self.page = page
        self.store = blob_store(self.config)
        self.tables = MediaTables(app)
        self.progress = progress or (lambda _: None)
        self._topics = app.topics_of(AudioAsset.AudioUploaded)  # type: ignore[attr-defined]
        self._fingerprints: dict[tuple[str, str], Fingerprint] = {}
        self._fingerprints_at = 0
        self.swept = self.store.remove_stale_staging()  # leftovers of a killed worker

    def position(self) -> int:
        return self.tables.worker_position(self.name, _micros(self.app))

    def step(self) -> list[Outcome]:
        """Handle up to one page of uploads after the tracking position."""
        start = self.position() + 1
        notes = self.app.recorder.select_notifications(start, self.page, topics=self._topics)
        return [self._handle(n) for n in notes]

    def run_once(self) -> list[Outcome]:
        """Handle every upload recorded so far, then return."""
        done: list[Outcome] = []
        while batch := self.step():
            done.extend(batch)
        return done

    def follow(self, stop: threading.Event, poll_seconds: float = 1.0) -> None:
        """Handle uploads as they are recorded until `stop` is set."""
        db = ViewDB(self.app.config) if self.app.config.backend == "postgres" else None
        listener = db.listen(EVENTS_CHANNEL) if db is not None else None
        try:
            while not stop.is_set():
                self.run_once()
                if listener is not None:
                    for _ in listener.notifies(timeout=poll_seconds, stop_after=1):
                        pass
                else:
                    stop.wait(poll_seconds)
        finally:
            if listener is not None:
                listener.close()
            if db is not None:
                db.close()

    def _handle(self, note: Notification) -> Outcome:
        uploaded = self.app.decode(note)
        isrc, sha256 = uploaded.isrc, uploaded.sha256
        asset = self.app.find_audio_asset(isrc, sha256)
        if asset is None or asset.status != "pending":
            return self._skip(note.id, isrc, sha256)
        self.progress(f"transcoding {isrc} {sha256[:12]} (position {note.id})")
        result = self._process(asset)
        try:
            if isinstance(result, Transcoded):
                duplicates = self._duplicates(isrc, Fingerprint.from_base64(result.fingerprint))
                self.app.record_audio_outcome(
                    asset,
                    worker=self.name,
                    position=note.id,
                    transcoded=_transcoded(result),
                    duplicates=duplicates,
                    actor=f"media-worker:{self.name}",
                )
                detail = asset.summary()
            else:
                failed = {"code": str(result.code), "reason": result.reason, "retryable": result.retryable}
                self.app.record_audio_outcome(
                    asset, worker=self.name, position=note.id, failed=failed, actor=f"media-worker:{self.name}"
                )
                detail = {"failure": failed}
        except OutcomeAlreadyRecorded:
            return self._skip(note.id, isrc, sha256)
        self.progress(f"{asset.status} {isrc} {sha256[:12]}")
        return Outcome(note.id, isrc, sha256, asset.status, detail)

    def _skip(self, position: int, isrc: str, sha256: str) -> Outcome:
        self.tables.advance_worker(self.name, position, _micros(self.app))
        return Outcome(position, isrc, sha256, "skipped")

    def _process(self, asset: AudioAsset) -> Transcoded | Failed:
        if not self.store.exists(asset.sha256):
            return Failed(
                "missing_original",  # type: ignore[arg-type]
                f"the uploaded file {asset.original_name} ({asset.sha256[:12]}…) is not in the "
                f"blob store at {self.store.root}; upload it again",
            )
        return process_upload(
            self.store.path(asset.sha256), asset.declared_format, asset.declared_duration_ms, self.config, self.store
        )

    def _duplicates(self, isrc: str, new: Fingerprint) -> tuple[tuple[str, str, int], ...]:
        """Other recordings whose transcoded audio this is probably the same as, best first."""
        for position, other_isrc, sha256, algorithm, text in self.tables.fingerprints_after(self._fingerprints_at):
            self._fingerprints[(other_isrc, sha256)] = Fingerprint.from_base64(text, algorithm)
            self._fingerprints_at = position
        best: dict[str, tuple[str, int]] = {}
        for (other_isrc, sha256), known in self._fingerprints.items():
            if other_isrc == isrc or known.algorithm != new.algorithm:
                continue
            match = compare(new, known)
            if (
                match.score_bp >= self.config.duplicate_threshold_bp
                and match.coverage_bp >= MIN_COVERAGE_BP
                and match.score_bp > best.get(other_isrc, ("", -1))[1]
            ):
                best[other_isrc] = (sha256, match.score_bp)
        ranked = sorted(best.items(), key=lambda item: (-item[1][1], item[0]))[:MAX_DUPLICATES]
        return tuple((other, sha, score) for other, (sha, score) in ranked)


def _transcoded(result: Transcoded) -> dict[str, Any]:
    """The AudioTranscoded fields, ints and strings only."""
    return {
        "detected_format": result.detected_format,
        "declared_format_matched": result.declared_format_matched,
        "duration_ms": result.duration_ms,
        "sample_rate_hz": result.sample_rate_hz,
        "loudness": asdict(result.loudness),
        "renditions": [asdict(r) for r in result.renditions],
        "fingerprint": result.fingerprint,
        "fingerprint_algorithm": result.fingerprint_algorithm,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m media.worker [--once]`: the worker as a plain process (`royalty media worker`
    is the same loop behind the CLI)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--once", action="store_true")
    parser.add_argument("--poll-seconds", type=float, default=1.0)
    args = parser.parse_args(argv)

    def progress(line: str) -> None:
        print(f"media worker: {line}", file=sys.stderr, flush=True)

    worker = MediaWorker(RoyaltyLedger(StoreConfig.from_env()), progress=progress)
    if args.once:
        print(f"media worker: handled {len(worker.run_once())} uploads", flush=True)
        return 0
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    worker.follow(stop, args.poll_seconds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
