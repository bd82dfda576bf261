"""AudioAsset: given an upload, when the worker records an outcome, then the asset says what it is."""

from __future__ import annotations

import pytest

from ledger.domain.audio import AudioAsset, audio_asset_id, recording_audio_status, require_sha256
from ledger.domain.party import DomainError

SHA = "ab" * 32
LOUDNESS = {
    "integrated_lufs_tenths": -113,
    "true_peak_dbtp_tenths": -93,
    "target_lufs_tenths": -140,
    "true_peak_ceiling_tenths": -20,
    "gain_db_tenths": -27,
    "capped_by_true_peak": False,
}


def uploaded(isrc: str = "GBAYE2600001") -> AudioAsset:
    return AudioAsset(
        isrc=isrc,
        sha256=SHA,
        size_bytes=10,
        original_name="a.wav",
        declared_format="wav",
        declared_duration_ms=6_000,
        actor="test",
    )


def transcode(asset: AudioAsset) -> None:
    asset.record_transcoded(
        detected_format="wav",
        declared_format_matched=True,
        duration_ms=6_000,
        sample_rate_hz=44_100,
        loudness=LOUDNESS,
        renditions=[],
        fingerprint="AAAA",
        fingerprint_algorithm=1,
        actor="worker",
    )


def test_the_same_content_for_the_same_recording_is_the_same_asset_and_another_recording_another() -> None:
    assert uploaded().id == audio_asset_id("GBAYE2600001", SHA)
    assert audio_asset_id("GBAYE2600001", SHA) != audio_asset_id("GBAYE2600002", SHA)


def test_an_upload_has_exactly_one_outcome() -> None:
    asset = uploaded()
    assert recording_audio_status(asset) == "pending"
    transcode(asset)
    assert (asset.version, recording_audio_status(asset)) == (2, "ready")
    with pytest.raises(DomainError, match="already ready"):
        asset.record_failed("timeout", "took too long", True, "worker")
    failed = uploaded()
    failed.record_failed("truncated", "file is truncated", False, "worker")
    assert recording_audio_status(failed) == "failed"
    with pytest.raises(DomainError, match="already failed"):
        transcode(failed)


def test_a_duplicate_is_of_another_recording_and_marks_the_status() -> None:
    asset = uploaded()
    with pytest.raises(DomainError, match="only transcoded audio"):
        asset.suspect_duplicate("GBAYE2600002", SHA, 9_000, "worker")
    transcode(asset)
    with pytest.raises(DomainError, match="another recording"):
        asset.suspect_duplicate("GBAYE2600001", SHA, 9_000, "worker")
    with pytest.raises(DomainError, match="outside"):
        asset.suspect_duplicate("GBAYE2600002", SHA, 10_001, "worker")
    asset.suspect_duplicate("GBAYE2600002", SHA, 9_000, "worker")
    assert recording_audio_status(asset) == "duplicate_suspected"
    assert asset.summary()["duplicates"] == [{"isrc": "GBAYE2600002", "sha256": SHA, "score_bp": 9_000}]
    assert "fingerprint" not in asset.summary()


def test_a_sha256_must_be_lower_case_hex() -> None:
    assert require_sha256(SHA) == SHA
    with pytest.raises(DomainError):
        require_sha256(SHA.upper())
    assert recording_audio_status(None) == "none"
