"""The media pipeline on real files through the real ffmpeg from the imageio-ffmpeg wheel.

Audio is generated here with ffmpeg's lavfi sources, a few seconds at a time; bad
inputs are real bad files (a PNG, text, random bytes, truncated and header-only audio).
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from media.blobstore import BlobStore
from media.config import MediaConfig
from media.ffmpeg import FfmpegTimeout, run_ffmpeg
from media.fingerprint import Fingerprint, compare, likely_duplicate
from media.loudness import measure_loudness
from media.pipeline import Failed, Transcoded, process_upload
from media.renditions import PRESETS, Preset
from media.sniff import AudioFormat, sniff_file
from media.validate import FailureCode

SECONDS = 6  # Chromaprint needs a few seconds before its first frame
# A "music-like" signal: two gliding tones and a little noise, so the fingerprint has
# something to hold on to (a steady sine gives the same chroma frame after frame).
MUSIC = "aevalsrc=0.3*sin(2*PI*(300+200*sin(2*PI*0.5*t))*t)+0.2*sin(2*PI*(800+300*sin(2*PI*0.3*t))*t):s=44100:d={d}"
ENCODE = {
    "wav": ["-c:a", "pcm_s16le"],
    "flac": ["-c:a", "flac"],
    "aiff": ["-c:a", "pcm_s16be"],
    "mp3": ["-c:a", "libmp3lame", "-b:a", "192k"],
    "ogg": ["-c:a", "libvorbis"],
}


def generate(out: Path, source: str, fmt: str = "wav", extra: tuple[str, ...] = ()) -> Path:
    args = ["-v", "error", "-y", "-f", "lavfi", "-i", source, "-ac", "2", *extra]
    run_ffmpeg([*args, *ENCODE[fmt], "-f", fmt, str(out)], timeout_s=30)
    return out


@pytest.fixture(scope="module")
def audio(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("audio")
    made = {fmt: generate(folder / f"music.{fmt}", MUSIC.format(d=SECONDS), fmt) for fmt in ENCODE}
    made["tone"] = generate(folder / "tone.wav", f"sine=f=660:r=44100:d={SECONDS}")
    return made


@pytest.fixture
def config(tmp_path: Path) -> MediaConfig:
    return MediaConfig(blob_dir=tmp_path / "blobs")


@pytest.fixture
def store(config: MediaConfig) -> BlobStore:
    return BlobStore(config.blob_dir)


def transcoded(outcome: Transcoded | Failed) -> Transcoded:
    assert isinstance(outcome, Transcoded), outcome
    return outcome


def failed(outcome: Transcoded | Failed) -> Failed:
    assert isinstance(outcome, Failed), outcome
    return outcome


def blob_files(config: MediaConfig) -> list[Path]:
    return [p for p in config.blob_dir.rglob("*") if p.is_file()]


@pytest.mark.parametrize("fmt", list(ENCODE))
def test_each_allowed_format_becomes_three_published_renditions(
    fmt: str, audio: dict[str, Path], config: MediaConfig, store: BlobStore
) -> None:
    result = transcoded(process_upload(audio[fmt], fmt, SECONDS * 1000, config, store))
    assert result.detected_format == fmt
    assert result.declared_format_matched
    assert abs(result.duration_ms - SECONDS * 1000) <= 60  # MP3 decoders trim differently
    assert [(r.format, r.bitrate_kbps) for r in result.renditions] == [
        ("opus", 128), ("mp3", 320), ("aac", 256)
    ]  # fmt: skip
    sniffed = {r.format: sniff_file(store.path(r.sha256)).description for r in result.renditions}
    assert sniffed == {"opus": "Ogg Opus audio", "mp3": "MP3 audio", "aac": "MPEG-4 audio (M4A)"}
    for rendition in result.renditions:
        content = store.path(rendition.sha256).read_bytes()
        assert hashlib.sha256(content).hexdigest() == rendition.sha256
        assert len(content) == rendition.size_bytes
        assert abs(rendition.duration_ms - result.duration_ms) <= 60
    assert len(Fingerprint.from_base64(result.fingerprint).frames) > 10
    assert len(blob_files(config)) == 3


def test_the_gain_brings_the_renditions_to_the_target_loudness(
    audio: dict[str, Path], config: MediaConfig, store: BlobStore
) -> None:
    result = transcoded(process_upload(audio["wav"], "wav", None, config, store))
    assert result.loudness.capped_by_true_peak is False
    assert result.loudness.gain_db_tenths == -140 - result.loudness.integrated_lufs_tenths
    for rendition in result.renditions:
        measured = measure_loudness(store.path(rendition.sha256))
        assert abs(measured.integrated_lufs_tenths - -140) <= 5, rendition.format


def test_a_quiet_track_with_sharp_peaks_is_raised_only_to_the_true_peak_ceiling(
    tmp_path: Path, config: MediaConfig, store: BlobStore
) -> None:
    clicks = "aevalsrc=0.02*sin(2*PI*440*t)+0.9*lt(mod(t\\,0.5)\\,0.002):s=44100:d=3"
    upload = generate(tmp_path / "clicks.wav", clicks)
    result = transcoded(process_upload(upload, "wav", None, config, store))
    loudness = result.loudness
    assert loudness.capped_by_true_peak is True
    assert loudness.true_peak_dbtp_tenths is not None
    assert loudness.gain_db_tenths == -20 - loudness.true_peak_dbtp_tenths
    assert loudness.gain_db_tenths < -140 - loudness.integrated_lufs_tenths
    mp3 = next(r for r in result.renditions if r.format == "mp3")
    peak_after = measure_loudness(store.path(mp3.sha256)).true_peak_dbtp_tenths
    assert peak_after is not None and peak_after <= -10  # −2 dBTP ceiling, codec overshoot < 1 dB


def test_processing_the_same_upload_twice_publishes_the_same_blobs(
    audio: dict[str, Path], config: MediaConfig, store: BlobStore
) -> None:
    first = process_upload(audio["flac"], "flac", None, config, store)
    second = process_upload(audio["flac"], "flac", None, config, store)
    assert first == second
    assert len(blob_files(config)) == 3


@pytest.mark.parametrize(
    ("name", "content", "code", "reason"),
    [
        ("empty.wav", b"", FailureCode.EMPTY, "empty file"),
        ("lyrics.mp3", b"Verse one, la la\n" * 20, FailureCode.NOT_AUDIO, "not audio: text file"),
        ("noise.flac", os.urandom(50_000), FailureCode.UNSUPPORTED_FORMAT,
         "unrecognised content: not WAV, FLAC, AIFF, MP3 or Ogg audio"),
    ],
)  # fmt: skip
def test_bad_bytes_are_refused_before_ffmpeg_sees_them(
    tmp_path: Path, config: MediaConfig, name: str, content: bytes, code: FailureCode, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert process_upload(path, "wav", 3000, config) == Failed(code, reason)
    assert blob_files(config) == []


def test_a_png_named_wav_is_not_audio(tmp_path: Path, config: MediaConfig) -> None:
    png = tmp_path / "cover.wav"
    red_square = ["-f", "lavfi", "-i", "color=c=red:s=32x32", "-frames:v", "1"]
    run_ffmpeg(["-v", "error", *red_square, "-f", "image2", "-c:v", "png", str(png)], timeout_s=30)
    assert process_upload(png, "wav", 3000, config) == Failed(FailureCode.NOT_AUDIO, "not audio: PNG image")


@pytest.mark.parametrize("fmt", ["wav", "flac", "mp3"])
def test_a_file_cut_in_half_is_truncated(fmt: str, audio: dict[str, Path], tmp_path: Path, config: MediaConfig) -> None:
    whole = audio[fmt].read_bytes()
    half = tmp_path / f"half.{fmt}"
    half.write_bytes(whole[: len(whole) // 2])
    result = failed(process_upload(half, fmt, SECONDS * 1000, config))
    assert result.code is FailureCode.TRUNCATED
    assert result.reason.startswith("file is truncated: decoded ")
    assert result.reason.endswith(" s of a declared 6.0 s")
    decoded = float(result.reason.split()[4])
    assert 2.5 <= decoded <= 3.1
    assert blob_files(config) == []


def test_a_header_only_wav_is_refused(audio: dict[str, Path], tmp_path: Path, config: MediaConfig) -> None:
    header_only = tmp_path / "header.wav"
    header_only.write_bytes(audio["wav"].read_bytes()[:44])
    result = failed(process_upload(header_only, "wav", SECONDS * 1000, config))
    assert result.code in (FailureCode.CORRUPT, FailureCode.TRUNCATED)
    assert result.reason.startswith("file is ")


def test_silence_is_refused(tmp_path: Path, config: MediaConfig) -> None:
    silence = generate(tmp_path / "silence.flac", "anullsrc=r=44100:cl=stereo:d=2", "flac")
    assert process_upload(silence, "flac", 2000, config) == Failed(FailureCode.SILENT, "silent: every sample is zero")


def test_a_very_short_file_is_refused(tmp_path: Path, config: MediaConfig) -> None:
    short = generate(tmp_path / "blip.wav", "sine=f=440:r=44100:d=0.4")
    assert process_upload(short, "wav", 400, config) == Failed(
        FailureCode.TOO_SHORT, "too short: 0.4 s, the minimum is 1.0 s"
    )


def test_a_file_over_the_maximum_duration_is_refused(audio: dict[str, Path], tmp_path: Path) -> None:
    config = MediaConfig(blob_dir=tmp_path, max_duration_ms=4_000)
    result = failed(process_upload(audio["wav"], "wav", None, config))
    assert result == Failed(FailureCode.TOO_LONG, "too long: over 4.0 s, the maximum is 4.0 s")


def test_a_declared_duration_far_from_the_decoded_one_is_refused(audio: dict[str, Path], config: MediaConfig) -> None:
    assert process_upload(audio["wav"], "wav", 1_000, config) == Failed(
        FailureCode.DURATION_MISMATCH, "duration mismatch: decoded 6.0 s, declared 1.0 s"
    )


def test_content_wins_over_the_declared_format(audio: dict[str, Path], config: MediaConfig) -> None:
    result = transcoded(process_upload(audio["flac"], "mp3", None, config))
    assert (result.detected_format, result.declared_format_matched) == ("flac", False)


def test_an_ffmpeg_past_its_timeout_is_killed(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(FfmpegTimeout) as caught:
        # -re: read at real speed, so 30 s of input takes 30 s unless killed
        run_ffmpeg(["-re", "-f", "lavfi", "-i", "sine=d=30", "-f", "null", "-"], timeout_s=0.5)
    assert time.monotonic() - started < 5
    with pytest.raises(ProcessLookupError):
        os.kill(caught.value.pid, 0)  # gone, and reaped


def test_a_pipeline_timeout_is_a_retryable_failure(audio: dict[str, Path], tmp_path: Path) -> None:
    config = MediaConfig(blob_dir=tmp_path, timeout_base_s=0.001, timeout_per_audio_second=0.0)
    result = failed(process_upload(audio["wav"], "wav", None, config))
    assert (result.code, result.retryable) == (FailureCode.TIMEOUT, True)
    assert result.reason == "decoding took longer than 0.0 s"


def test_nothing_is_published_when_one_rendition_fails(
    audio: dict[str, Path], config: MediaConfig, store: BlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = Preset("no_such_encoder", "ipod", "m4a", "m4a", "audio/mp4")
    monkeypatch.setitem(PRESETS, "aac", broken)
    result = failed(process_upload(audio["wav"], "wav", None, config, store))
    assert result.code is FailureCode.TRANSCODE_ERROR
    assert "no_such_encoder" in result.reason
    assert blob_files(config) == []


def test_an_mp3_made_from_an_uploaded_wav_is_a_likely_duplicate(
    audio: dict[str, Path], config: MediaConfig, store: BlobStore
) -> None:
    wav = transcoded(process_upload(audio["wav"], "wav", None, config, store))
    mp3 = transcoded(process_upload(audio["mp3"], "mp3", None, config, store))
    tone = transcoded(process_upload(audio["tone"], "wav", None, config, store))
    fp_wav, fp_mp3, fp_tone = (Fingerprint.from_base64(r.fingerprint) for r in (wav, mp3, tone))
    assert likely_duplicate(fp_wav, fp_mp3, config.duplicate_threshold_bp)
    assert not likely_duplicate(fp_wav, fp_tone, config.duplicate_threshold_bp)
    assert compare(fp_wav, fp_tone).score_bp < 7_000


def test_the_mp3_rendition_of_an_upload_is_a_duplicate_of_it(
    audio: dict[str, Path], config: MediaConfig, store: BlobStore
) -> None:
    original = transcoded(process_upload(audio["wav"], "wav", None, config, store))
    mp3 = next(r for r in original.renditions if r.format == "mp3")
    again = transcoded(process_upload(store.path(mp3.sha256), "mp3", None, config, store))
    assert again.detected_format == AudioFormat.MP3
    assert likely_duplicate(Fingerprint.from_base64(original.fingerprint), Fingerprint.from_base64(again.fingerprint))


@pytest.mark.parametrize(("channels", "layout"), [(1, "mono"), (6, "stereo")])
def test_mono_stays_mono_and_surround_is_folded_to_stereo(
    channels: int, layout: str, tmp_path: Path, config: MediaConfig, store: BlobStore
) -> None:
    master = tmp_path / f"{channels}ch.wav"
    source = MUSIC.format(d=2).replace("s=44100", "s=48000")
    run_ffmpeg(["-v", "error", "-f", "lavfi", "-i", source, "-ac", str(channels), str(master)], timeout_s=30)
    result = transcoded(process_upload(master, "wav", 2000, config, store))
    for rendition in result.renditions:
        log = run_ffmpeg(["-i", str(store.path(rendition.sha256))], timeout_s=30, check=False).stderr
        assert f"48000 Hz, {layout}" in log, rendition.format
