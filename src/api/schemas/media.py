"""Audio payloads: an upload's summary (renditions, loudness, failure, duplicates), a recording's audio."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class RenditionPublic(BaseModel):
    format: str = Field(examples=["opus"])
    container: str = Field(examples=["ogg"])
    media_type: str
    bitrate_kbps: int
    sample_rate_hz: int
    duration_ms: int
    size_bytes: int
    sha256: str


class LoudnessPublic(BaseModel):
    """EBU R128 figures in tenths of a dB (`-140` is −14.0 LUFS); the gain applied to renditions."""

    integrated_lufs_tenths: int
    true_peak_dbtp_tenths: int | None = Field(description="None for digital silence (−∞).")
    target_lufs_tenths: int
    true_peak_ceiling_tenths: int
    gain_db_tenths: int
    capped_by_true_peak: bool


class FailurePublic(BaseModel):
    code: str = Field(examples=["truncated"])
    reason: str = Field(examples=["file is truncated: decoded 15.0 s of a declared 30.0 s"])
    retryable: bool


class DuplicatePublic(BaseModel):
    """Another recording whose audio this upload is probably the same as."""

    isrc: str
    sha256: str
    score_bp: int = Field(description="Similarity in basis points (10 000 = identical).")


class AudioUploadPublic(BaseModel):
    sha256: str
    size_bytes: int
    original_name: str
    declared_format: str | None
    status: Literal["pending", "ready", "failed"]
    detected_format: str | None = None
    duration_ms: int | None = None
    sample_rate_hz: int | None = None
    loudness: LoudnessPublic | None = None
    renditions: list[RenditionPublic] = []
    duplicates: list[DuplicatePublic] = []
    failure: FailurePublic | None = None


class RecordingAudioPublic(BaseModel):
    """A recording's audio status is its latest upload's."""

    isrc: str
    status: Literal["none", "pending", "ready", "failed", "duplicate_suspected"]
    current: AudioUploadPublic | None
    uploads: list[AudioUploadPublic]


class AudioUploadWritten(BaseModel):
    """The upload is recorded; the media worker transcodes it (poll the recording's audio)."""

    position: int
    changed: bool = Field(description="False when this content was already uploaded for it.")
    isrc: str
    upload: AudioUploadPublic
