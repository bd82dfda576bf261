"""Validation: is this upload whole, decodable audio we accept? If not, say why.

Checks run cheapest first: size, emptiness, content sniffing (allow-list), then ONE
strict full decode (`-xerror`, `-err_detect explode`) that also measures loudness
(EBU R128) and the peak sample level, so validation and measurement share the pass.
The decoded duration (samples ÷ rate, exact) is compared with the declared one and
with the minimum and maximum. Every refusal is a `Rejection`: a code for machines and
a reason a person can act on ("file is truncated: decoded 15.0 s of a declared 30.0 s").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from pathlib import Path

from media.blobstore import FileTooLarge
from media.config import MediaConfig
from media.ffmpeg import FfmpegTimeout, first_error, run_ffmpeg, timeout_for
from media.loudness import (
    EBUR128_FILTER,
    SILENCE_LUFS_TENTHS,
    LoudnessUnavailable,
    Measurement,
    parse_ebur128_summary,
)
from media.sniff import AudioFormat, sniff_file

ASTATS_FILTER = "astats=measure_perchannel=none:measure_overall=Peak_level+Number_of_samples"


class FailureCode(StrEnum):
    EMPTY = "empty"
    TOO_LARGE = "too_large"
    NOT_AUDIO = "not_audio"
    UNSUPPORTED_FORMAT = "unsupported_format"
    CORRUPT = "corrupt"
    TRUNCATED = "truncated"
    DURATION_MISMATCH = "duration_mismatch"
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    SILENT = "silent"
    TIMEOUT = "timeout"
    TRANSCODE_ERROR = "transcode_error"


@dataclass(frozen=True)
class Rejection:
    code: FailureCode
    reason: str


@dataclass(frozen=True)
class DecodeReport:
    """What the strict decode found, parsed from ffmpeg's log."""

    succeeded: bool
    error: str  # the log's closing lines when the decode failed, else ""
    sample_rate_hz: int | None
    decoded_samples: int | None  # per channel
    all_samples_zero: bool
    loudness: Measurement | None


@dataclass(frozen=True)
class ValidAudio:
    format: AudioFormat
    description: str
    sample_rate_hz: int
    duration_ms: int
    loudness: Measurement


def seconds(ms: int) -> str:
    """`15000` → `"15.0 s"`, exact to the tenth."""
    tenths = (Decimal(ms) / 100).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    return f"{tenths // 10}.{tenths % 10} s"


def validate_upload(path: Path | str, declared_duration_ms: int | None, config: MediaConfig) -> ValidAudio | Rejection:
    """Run every check on a local file; the first that fails gives the rejection."""
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        return Rejection(FailureCode.EMPTY, "empty file")
    if size > config.max_upload_bytes:
        return Rejection(FailureCode.TOO_LARGE, str(FileTooLarge(size, config.max_upload_bytes)))
    sniffed = sniff_file(path)
    if sniffed.format is None:
        code = FailureCode.UNSUPPORTED_FORMAT if sniffed.is_audio else FailureCode.NOT_AUDIO
        return Rejection(code, sniffed.reason or "not audio")
    expected_s = (declared_duration_ms or config.max_duration_ms) / 1000
    timeout_s = timeout_for(expected_s, config.timeout_base_s, config.timeout_per_audio_second)
    try:
        report = strict_decode(path, sniffed.format, timeout_s, config.max_duration_ms)
    except FfmpegTimeout as timeout:
        return Rejection(FailureCode.TIMEOUT, f"decoding took longer than {timeout.timeout_s:.1f} s")
    verdict = judge(report, declared_duration_ms, config)
    if isinstance(verdict, Rejection):
        return verdict
    duration_ms, loudness = verdict
    return ValidAudio(sniffed.format, sniffed.description, report.sample_rate_hz or 0, duration_ms, loudness)


def decode_args(path: Path, fmt: AudioFormat, max_duration_ms: int) -> list[str]:
    """One strict decode to nowhere, measuring as it goes.

    The demuxer is forced to the sniffed format, so a file cannot talk ffmpeg into
    another demuxer (playlists, concat lists); decoding stops one second past the
    maximum duration, so an over-long upload costs no more than an acceptable one.
    """
    cap_s = str(Decimal(max_duration_ms + 1000) / 1000)
    strict = ["-nostats", "-xerror", "-err_detect", "explode"]
    measure = ["-map", "0:a:0", "-af", f"{EBUR128_FILTER},{ASTATS_FILTER}"]
    return [
        *strict,
        "-f",
        fmt.value,
        "-t",
        cap_s,
        "-i",
        f"file:{path}",
        *measure,
        "-f",
        "null",
        "-",
    ]


def strict_decode(path: Path, fmt: AudioFormat, timeout_s: float, max_duration_ms: int) -> DecodeReport:
    run = run_ffmpeg(decode_args(path, fmt, max_duration_ms), timeout_s=timeout_s, check=False)
    return parse_decode_log(run.stderr, run.returncode)


_INPUT_RATE = re.compile(r"Stream #0:\d+[^\n]*?: Audio: [^\n]*?(\d+) Hz")
_SAMPLES = re.compile(r"Number of samples: (\d+)")
_PEAK_LEVEL = re.compile(r"Peak level dB: (\S+)")


def parse_decode_log(log: str, returncode: int) -> DecodeReport:
    """Read the strict decode's log (pure: unit-tested on captured logs)."""
    input_part = log.split("Stream mapping:", 1)[0]
    rate = _INPUT_RATE.search(input_part)
    samples = _SAMPLES.findall(log)
    peak = _PEAK_LEVEL.findall(log)
    try:
        loudness: Measurement | None = parse_ebur128_summary(log)
    except LoudnessUnavailable:
        loudness = None
    return DecodeReport(
        succeeded=returncode == 0,
        error="" if returncode == 0 else first_error(log),
        sample_rate_hz=int(rate.group(1)) if rate else None,
        decoded_samples=int(samples[-1]) if samples else None,
        all_samples_zero=bool(peak) and peak[-1] == "-inf",
        loudness=loudness,
    )


def judge(
    report: DecodeReport, declared_duration_ms: int | None, config: MediaConfig
) -> tuple[int, Measurement] | Rejection:
    """The decode's verdict: (duration, loudness) when acceptable, else why not."""
    decoded_ms = _decoded_ms(report)
    declared = declared_duration_ms
    tolerance = config.duration_tolerance_ms
    if not report.succeeded:
        if decoded_ms is not None and declared and decoded_ms < declared - tolerance:
            return _truncated(decoded_ms, declared)
        where = f"after {seconds(decoded_ms)}" if decoded_ms else "at the start"
        return Rejection(FailureCode.CORRUPT, f"file is corrupt: decoding failed {where} ({report.error})")
    if decoded_ms is None or report.loudness is None:
        return Rejection(FailureCode.CORRUPT, "file is corrupt: no audio stream could be decoded")
    if decoded_ms > config.max_duration_ms:
        return Rejection(
            FailureCode.TOO_LONG,
            f"too long: over {seconds(config.max_duration_ms)}, the maximum is {seconds(config.max_duration_ms)}",
        )
    if declared and decoded_ms < declared - tolerance:
        return _truncated(decoded_ms, declared)
    if declared and decoded_ms > declared + tolerance:
        return Rejection(
            FailureCode.DURATION_MISMATCH,
            f"duration mismatch: decoded {seconds(decoded_ms)}, declared {seconds(declared)}",
        )
    if decoded_ms < config.min_duration_ms:
        return Rejection(
            FailureCode.TOO_SHORT,
            f"too short: {seconds(decoded_ms)}, the minimum is {seconds(config.min_duration_ms)}",
        )
    if report.all_samples_zero:
        return Rejection(FailureCode.SILENT, "silent: every sample is zero")
    if report.loudness.integrated_lufs_tenths <= SILENCE_LUFS_TENTHS:
        return Rejection(FailureCode.SILENT, "silent: nothing in the file is louder than −70 LUFS")
    return decoded_ms, report.loudness


def _truncated(decoded_ms: int, declared_ms: int) -> Rejection:
    return Rejection(
        FailureCode.TRUNCATED,
        f"file is truncated: decoded {seconds(decoded_ms)} of a declared {seconds(declared_ms)}",
    )


def _decoded_ms(report: DecodeReport) -> int | None:
    if report.decoded_samples is None or not report.sample_rate_hz:
        return None
    rate = report.sample_rate_hz
    return (report.decoded_samples * 1000 + rate // 2) // rate
