"""Audio commands: record an upload, record the media worker's outcome, look up a recording's audio.

The bytes live in the media blob store (the `media` package puts them there first); the ledger
records facts about them. Every outcome saves the worker's new tracking position in the same
transaction, and is the asset's version 2: a second outcome for one upload cannot be recorded.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.persistence import IntegrityError

from ledger.base import LedgerBase as _Base
from ledger.base import NotFound
from ledger.domain.audio import AudioAsset, audio_asset_id, recording_audio_status, require_sha256
from ledger.domain.identifiers import parse_isrc
from ledger.domain.ids import recording_id
from ledger.domain.party import DomainError
from ledger.domain.text import escape_controls
from ledger.store.media_tables import (
    FingerprintIndexed,
    MediaTables,
    UploadIndexed,
    WorkerAdvanced,
)


class OutcomeAlreadyRecorded(DomainError):
    """The upload has its outcome already (another worker, or this one before a crash)."""


def _micros_now(app: Any) -> int:
    at: datetime = app.clock()
    return int(at.timestamp()) * 1_000_000 + at.microsecond


class AudioCommands(_Base):
    def require_recording(self, isrc: str) -> str:
        """The ISRC, normalised, if a recording has it; NotFound otherwise (before any bytes move)."""
        isrc = parse_isrc(isrc)
        if not self._exists(recording_id(isrc)):
            raise NotFound(f"recording {isrc}: not found; deliver it before uploading its audio")
        return isrc

    def find_audio_asset(self, isrc: str, sha256: str) -> AudioAsset | None:
        asset_id = audio_asset_id(isrc, sha256)
        if not self._exists(asset_id):
            return None
        asset: AudioAsset = self.repository.get(asset_id)
        assert isinstance(asset, AudioAsset)
        return asset

    def record_audio_upload(
        self,
        isrc: str,
        sha256: str,
        size_bytes: int,
        original_name: str,
        declared_format: str | None,
        declared_duration_ms: int | None,
        actor: str,
    ) -> tuple[AudioAsset, bool]:
        """Record AudioUploaded; (asset, created). The same content again for the same recording
        is the same asset and records nothing."""
        isrc = self.require_recording(isrc)
        require_sha256(sha256)
        if size_bytes <= 0:
            raise DomainError("the file is empty: upload the master audio file")
        if declared_duration_ms is not None and declared_duration_ms <= 0:
            raise DomainError(f"declared duration must be positive, got {declared_duration_ms} ms")
        existing = self.find_audio_asset(isrc, sha256)
        if existing is not None:
            return existing, False
        asset = AudioAsset(
            isrc=isrc,
            sha256=sha256,
            size_bytes=size_bytes,
            original_name=original_name[:255],
            declared_format=declared_format,
            declared_duration_ms=declared_duration_ms,
            actor=actor,
        )
        try:
            self.save(asset, side_writes=[UploadIndexed(isrc, sha256, size_bytes)])
        except IntegrityError:  # the same upload recorded concurrently: it exists now
            found = self.find_audio_asset(isrc, sha256)
            assert found is not None
            return found, False
        return asset, True

    def record_audio_outcome(
        self,
        asset: AudioAsset,
        *,
        worker: str,
        position: int,
        transcoded: dict[str, Any] | None = None,
        failed: dict[str, Any] | None = None,
        duplicates: tuple[tuple[str, str, int], ...] = (),
        actor: str = "media-worker",
    ) -> None:
        """Record AudioTranscoded (with any DuplicateAudioSuspected) or TranscodeFailed for the
        upload at `position`, and move `worker`'s tracking to it, in one transaction."""
        if (transcoded is None) == (failed is None):
            raise ValueError("an outcome is either transcoded or failed")
        side: list[Any] = [WorkerAdvanced(worker, position, _micros_now(self))]
        if transcoded is not None:
            asset.record_transcoded(**transcoded, actor=actor)
            side.append(
                FingerprintIndexed(
                    asset.isrc, asset.sha256, transcoded["fingerprint_algorithm"], transcoded["fingerprint"]
                )
            )
            for other_isrc, other_sha256, score_bp in duplicates:
                asset.suspect_duplicate(other_isrc, other_sha256, score_bp, actor)
        else:
            assert failed is not None
            # Reasons quote ffmpeg's log, which quotes the uploaded file's own tags: escape
            # controls so a hostile tag cannot make the outcome unrecordable (ledger.domain.text).
            failed = {k: escape_controls(v) if isinstance(v, str) else v for k, v in failed.items()}
            asset.record_failed(**failed, actor=actor)
        try:
            self.save(asset, side_writes=side)
        except IntegrityError:
            raise OutcomeAlreadyRecorded(f"audio {asset.isrc}/{asset.sha256[:12]} already has its outcome") from None

    def audio_assets(self, isrc: str) -> list[AudioAsset]:
        """Every upload of this recording, oldest first (from the uploads index, then the log)."""
        assets = []
        for _, sha256 in MediaTables(self).uploads_of(isrc):
            asset = self.find_audio_asset(isrc, sha256)
            if asset is not None:
                assets.append(asset)
        return assets

    def audio_of(self, isrc: str) -> dict[str, Any]:
        """A recording's audio: its status (the latest upload's) and every upload's summary."""
        assets = self.audio_assets(isrc)
        latest = assets[-1] if assets else None
        return {
            "status": recording_audio_status(latest),
            "current": latest.summary() if latest else None,
            "uploads": [a.summary() for a in assets],
        }
