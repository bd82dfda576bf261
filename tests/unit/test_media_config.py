"""MediaConfig from ROYALTY_MEDIA_* variables: decimals in, exact integers out."""

from __future__ import annotations

from pathlib import Path

import pytest

from media.config import DEFAULT_LADDER, MIB, MediaConfig, Rung, parse_ladder


def test_defaults_are_the_platform_policy() -> None:
    config = MediaConfig.from_env({})
    assert config == MediaConfig()
    assert config.target_lufs_tenths == -140
    assert config.true_peak_ceiling_tenths == -20
    assert config.ladder == (Rung("opus", 128), Rung("mp3", 320), Rung("aac", 256))
    assert config.max_upload_bytes == 500 * MIB


def test_every_setting_can_be_overridden() -> None:
    config = MediaConfig.from_env(
        {
            "ROYALTY_MEDIA_BLOB_DIR": "/srv/blobs",
            "ROYALTY_MEDIA_MAX_UPLOAD_MIB": "1.5",
            "ROYALTY_MEDIA_TARGET_LUFS": "-16.5",
            "ROYALTY_MEDIA_TRUE_PEAK_CEILING_DBTP": "-1",
            "ROYALTY_MEDIA_LADDER": "opus:96, mp3:192",
            "ROYALTY_MEDIA_MIN_DURATION_S": "0.25",
            "ROYALTY_MEDIA_MAX_DURATION_S": "600",
            "ROYALTY_MEDIA_DURATION_TOLERANCE_S": "1",
            "ROYALTY_MEDIA_TIMEOUT_BASE_S": "5",
            "ROYALTY_MEDIA_TIMEOUT_PER_AUDIO_SECOND": "0.25",
            "ROYALTY_MEDIA_DUPLICATE_THRESHOLD": "0.9",
        }
    )
    assert config == MediaConfig(
        blob_dir=Path("/srv/blobs"),
        max_upload_bytes=3 * MIB // 2,
        target_lufs_tenths=-165,
        true_peak_ceiling_tenths=-10,
        ladder=(Rung("opus", 96), Rung("mp3", 192)),
        min_duration_ms=250,
        max_duration_ms=600_000,
        duration_tolerance_ms=1_000,
        timeout_base_s=5.0,
        timeout_per_audio_second=0.25,
        duplicate_threshold_bp=9_000,
    )


def test_blank_variables_keep_the_default() -> None:
    assert MediaConfig.from_env({"ROYALTY_MEDIA_LADDER": " ", "ROYALTY_MEDIA_TARGET_LUFS": ""}) == (MediaConfig())


@pytest.mark.parametrize("text", ["mp3", "mp3:fast", "flac:900", "wma:128", ",", "opus:1000"])
def test_a_bad_ladder_is_refused_with_a_reason(text: str) -> None:
    with pytest.raises(ValueError):
        parse_ladder(text)


def test_a_bad_number_is_refused() -> None:
    with pytest.raises(ValueError, match="not a finite number"):
        MediaConfig.from_env({"ROYALTY_MEDIA_TARGET_LUFS": "loud"})
    with pytest.raises(ValueError, match="not a finite number"):
        MediaConfig.from_env({"ROYALTY_MEDIA_TARGET_LUFS": "-inf"})


def test_the_default_ladder_parses_from_its_own_spelling() -> None:
    assert parse_ladder("opus:128,mp3:320,aac:256") == DEFAULT_LADDER
