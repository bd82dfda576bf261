"""AudioAsset: one uploaded original (ISRC × SHA-256) and what the media worker made of it.

A separate aggregate per upload, not events on the Recording: the worker records outcomes
minutes after an upload while catalogue deliveries may be editing the recording, and an
aggregate of its own means the two never contend for the recording's next version. It also
makes outcomes exactly-once by construction: the outcome is this aggregate's version 2, so a
second attempt to record one (a restarted or second worker) is refused by the store.
Figures are ints and strings only: tenths of a dB, milliseconds, bytes, basis points.
"""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from ledger.domain.ids import NAMESPACE
from ledger.domain.party import DomainError

STATUSES = ("pending", "ready", "failed")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def audio_asset_id(isrc: str, sha256: str) -> UUID:
    """The same content uploaded for the same recording is the same asset."""
    return uuid5(NAMESPACE, f"audio:{isrc}:{sha256}")


def require_sha256(sha256: str) -> str:
    if not _SHA256.match(sha256):
        raise DomainError(f"not a lower-case hex SHA-256: {sha256!r}")
    return sha256


class AudioAsset(Aggregate):
    @staticmethod
    def create_id(isrc: str, sha256: str, **_: Any) -> UUID:
        return audio_asset_id(isrc, sha256)

    @event("AudioUploaded")
    def __init__(
        self,
        isrc: str,
        sha256: str,
        size_bytes: int,
        original_name: str,
        declared_format: str | None,
        declared_duration_ms: int | None,
        actor: str,
    ) -> None:
        self.isrc = isrc
        self.sha256 = sha256
        self.size_bytes = size_bytes
        self.original_name = original_name
        self.declared_format = declared_format
        self.declared_duration_ms = declared_duration_ms
        self.uploaded_by = actor
        self.status = "pending"
        self.detected_format: str | None = None
        self.duration_ms: int | None = None
        self.sample_rate_hz: int | None = None
        self.loudness: dict[str, Any] = {}
        self.renditions: list[dict[str, Any]] = []
        self.fingerprint: str | None = None
        self.failure: dict[str, Any] | None = None
        self.duplicates: list[dict[str, Any]] = []

    def _require_pending(self) -> None:
        if self.status != "pending":
            raise DomainError(f"audio {self.isrc}/{self.sha256[:12]}: already {self.status}")

    def record_transcoded(self, **outcome: Any) -> None:
        self._require_pending()
        self._transcoded(**outcome)

    @event("AudioTranscoded")
    def _transcoded(
        self,
        detected_format: str,
        declared_format_matched: bool,
        duration_ms: int,
        sample_rate_hz: int,
        loudness: dict[str, Any],
        renditions: list[dict[str, Any]],
        fingerprint: str,
        fingerprint_algorithm: int,
        actor: str,
    ) -> None:
        self.status = "ready"
        self.detected_format = detected_format
        self.declared_format_matched = declared_format_matched
        self.duration_ms = duration_ms
        self.sample_rate_hz = sample_rate_hz
        self.loudness = loudness
        self.renditions = renditions
        self.fingerprint = fingerprint
        self.fingerprint_algorithm = fingerprint_algorithm

    def record_failed(self, code: str, reason: str, retryable: bool, actor: str) -> None:
        self._require_pending()
        self._failed(code=code, reason=reason, retryable=retryable, actor=actor)

    @event("TranscodeFailed")
    def _failed(self, code: str, reason: str, retryable: bool, actor: str) -> None:
        self.status = "failed"
        self.failure = {"code": code, "reason": reason, "retryable": retryable}

    def suspect_duplicate(self, other_isrc: str, other_sha256: str, score_bp: int, actor: str) -> None:
        if self.status != "ready":
            raise DomainError("only transcoded audio has a fingerprint to compare")
        if other_isrc == self.isrc:
            raise DomainError("a duplicate is of another recording's audio")
        if not 0 <= score_bp <= 10_000:
            raise DomainError(f"similarity {score_bp} bp is outside 0..10000")
        self._duplicate(other_isrc=other_isrc, other_sha256=other_sha256, score_bp=score_bp, actor=actor)

    @event("DuplicateAudioSuspected")
    def _duplicate(self, other_isrc: str, other_sha256: str, score_bp: int, actor: str) -> None:
        self.duplicates.append({"isrc": other_isrc, "sha256": other_sha256, "score_bp": score_bp})

    def summary(self) -> dict[str, Any]:
        """What a person reading the catalogue needs (no fingerprint)."""
        doc: dict[str, Any] = {
            "sha256": self.sha256,
            "size_bytes": self.size_bytes,
            "original_name": self.original_name,
            "declared_format": self.declared_format,
            "status": self.status,
        }
        if self.status == "ready":
            doc |= {
                "detected_format": self.detected_format,
                "duration_ms": self.duration_ms,
                "sample_rate_hz": self.sample_rate_hz,
                "loudness": self.loudness,
                "renditions": self.renditions,
                "duplicates": self.duplicates,
            }
        if self.failure is not None:
            doc["failure"] = self.failure
        return doc


def recording_audio_status(latest: AudioAsset | None) -> str:
    """A recording's audio status is its latest upload's: none, pending, ready, failed, or
    duplicate_suspected (transcoded, with renditions, but alike another recording's audio)."""
    if latest is None:
        return "none"
    if latest.status == "ready" and latest.duplicates:
        return "duplicate_suspected"
    return latest.status
