"""Reading the strict decode's log, and judging what it found (no ffmpeg needed)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from media.config import MediaConfig
from media.ffmpeg import first_error
from media.loudness import Measurement
from media.validate import DecodeReport, FailureCode, Rejection, judge, parse_decode_log, seconds

TRUNCATED_FLAC_LOG = """\
Input #0, flac, from 'file:half.flac':
  Duration: 00:00:04.00, start: 0.000000, bitrate: 58 kb/s
  Stream #0:0: Audio: flac, 44100 Hz, stereo, s16
Stream mapping:
  Stream #0:0 -> #0:0 (flac (native) -> pcm_s16le (native))
Output #0, null, to 'pipe:':
  Stream #0:0: Audio: pcm_s16le, 48000 Hz, stereo, s16, 1411 kb/s
[flac @ 0x55f61c579800] invalid residual
[aist#0:0/flac @ 0x55] [dec:flac @ 0x55] Decoding error: Invalid data found when processing input
[Parsed_ebur128_0 @ 0x7f4ab4001f00] Summary:
  Integrated loudness:
    I:         -21.8 LUFS
    Threshold: -31.8 LUFS
  Loudness range:
    LRA:         0.0 LU
    Threshold:   0.0 LUFS
  True peak:
    Peak:      -21.1 dBFS
[Parsed_astats_1 @ 0x7f4ab40023c0] Overall
[Parsed_astats_1 @ 0x7f4ab40023c0] Peak level dB: -21.073028
[Parsed_astats_1 @ 0x7f4ab40023c0] Number of samples: 66150
Conversion failed!
"""

SILENT_WAV_LOG = """\
  Stream #0:0: Audio: pcm_s16le ([1][0][0][0] / 0x0001), 22050 Hz, mono, s16, 352 kb/s
Stream mapping:
    I:         -70.0 LUFS
    Peak:       -inf dBFS
[Parsed_astats_1 @ 0x7f47d40023c0] Peak level dB: -inf
[Parsed_astats_1 @ 0x7f47d40023c0] Number of samples: 66150
"""

CONFIG = MediaConfig()
GOOD = DecodeReport(
    succeeded=True,
    error="",
    sample_rate_hz=44100,
    decoded_samples=44100 * 30,
    all_samples_zero=False,
    loudness=Measurement(-180, -30),
)


def test_the_log_of_a_failed_decode_still_says_how_much_was_decoded() -> None:
    report = parse_decode_log(TRUNCATED_FLAC_LOG, returncode=1)
    assert report.succeeded is False
    assert report.error == "invalid residual"
    assert report.sample_rate_hz == 44100  # the input's rate, not the output's
    assert report.decoded_samples == 66150
    assert report.loudness == Measurement(-218, -211)
    assert report.all_samples_zero is False


def test_a_log_of_zeros_reads_as_silence() -> None:
    report = parse_decode_log(SILENT_WAV_LOG, returncode=0)
    assert report.all_samples_zero is True
    assert report.sample_rate_hz == 22050
    assert report.loudness == Measurement(-700, None)


def test_a_whole_file_of_the_declared_length_passes() -> None:
    assert judge(GOOD, 30_000, CONFIG) == (30_000, Measurement(-180, -30))
    assert judge(GOOD, None, CONFIG) == (30_000, Measurement(-180, -30))


def test_a_failed_decode_short_of_the_declared_length_is_truncated() -> None:
    report = replace(GOOD, succeeded=False, error="x", decoded_samples=44100 * 15)
    assert judge(report, 30_000, CONFIG) == Rejection(
        FailureCode.TRUNCATED, "file is truncated: decoded 15.0 s of a declared 30.0 s"
    )


def test_a_clean_decode_short_of_the_declared_length_is_truncated_too() -> None:
    report = replace(GOOD, decoded_samples=44100 * 15)
    verdict = judge(report, 30_000, CONFIG)
    assert isinstance(verdict, Rejection)
    assert verdict.code is FailureCode.TRUNCATED


def test_a_failed_decode_without_a_declared_length_is_corrupt_with_the_position() -> None:
    report = replace(GOOD, succeeded=False, error="invalid residual", decoded_samples=66150)
    assert judge(report, None, CONFIG) == Rejection(
        FailureCode.CORRUPT, "file is corrupt: decoding failed after 1.5 s (invalid residual)"
    )


def test_the_duration_tolerance_applies_both_ways() -> None:
    assert not isinstance(judge(GOOD, 30_500, CONFIG), Rejection)
    assert not isinstance(judge(GOOD, 29_500, CONFIG), Rejection)
    assert judge(GOOD, 29_000, CONFIG) == Rejection(
        FailureCode.DURATION_MISMATCH, "duration mismatch: decoded 30.0 s, declared 29.0 s"
    )


@pytest.mark.parametrize(
    ("report", "code", "reason"),
    [
        (replace(GOOD, decoded_samples=17640), FailureCode.TOO_SHORT,
         "too short: 0.4 s, the minimum is 1.0 s"),
        (replace(GOOD, decoded_samples=44100 * 1801), FailureCode.TOO_LONG,
         "too long: over 1800.0 s, the maximum is 1800.0 s"),
        (replace(GOOD, all_samples_zero=True), FailureCode.SILENT, "silent: every sample is zero"),
        (replace(GOOD, loudness=Measurement(-700, -600)), FailureCode.SILENT,
         "silent: nothing in the file is louder than −70 LUFS"),
        (replace(GOOD, decoded_samples=None), FailureCode.CORRUPT,
         "file is corrupt: no audio stream could be decoded"),
    ],
)  # fmt: skip
def test_each_refusal_has_a_reason_a_person_can_act_on(report: DecodeReport, code: FailureCode, reason: str) -> None:
    assert judge(report, None, CONFIG) == Rejection(code, reason)


def test_seconds_are_shown_to_the_tenth_without_float_surprises() -> None:
    assert seconds(15_000) == "15.0 s"
    assert seconds(449) == "0.4 s"
    assert seconds(450) == "0.4 s"  # half to even
    assert seconds(1_850) == "1.8 s"
    assert seconds(0) == "0.0 s"


def test_the_first_error_line_is_shown_without_ffmpeg_prefixes() -> None:
    assert first_error(TRUNCATED_FLAC_LOG) == "invalid residual"
    assert first_error("[fc#0 @ 0x1] Error reinitializing filters!\n") == "Error reinitializing filters!"
