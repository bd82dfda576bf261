"""Loudness: EBU R128 integrated loudness and true peak, and the gain they call for.

Measured once, by ffmpeg's `ebur128=peak=true` filter (the strict validation decode
carries it, so measuring costs no extra pass). The gain moves the track toward the
target loudness but never past the point where its true peak would exceed the ceiling
(−2 dBTP by default: lossy encoders overshoot the peaks of what they are given).
All figures are exact integers in tenths of a dB, ready for events.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

from media.ffmpeg import run_ffmpeg, timeout_for

# framelog=quiet: the per-100 ms lines would swamp the log we parse.
EBUR128_FILTER = "ebur128=peak=true:framelog=quiet"
SILENCE_LUFS_TENTHS = -700  # ebur128 reports the −70 LUFS absolute gate when nothing passes

_INTEGRATED = re.compile(r"^\s*I:\s+(-?(?:\d+(?:\.\d+)?|inf))\s+LUFS", re.MULTILINE)
_TRUE_PEAK = re.compile(r"^\s*Peak:\s+(-?(?:\d+(?:\.\d+)?|inf))\s+dBFS", re.MULTILINE)


class LoudnessUnavailable(ValueError):
    """ffmpeg's log holds no EBU R128 summary."""


@dataclass(frozen=True)
class Measurement:
    """Integrated loudness (LUFS) and true peak (dBTP), in tenths; None for −∞ (silence)."""

    integrated_lufs_tenths: int
    true_peak_dbtp_tenths: int | None


@dataclass(frozen=True)
class Loudness:
    """The measured figures, the target, and the gain applied to every rendition."""

    integrated_lufs_tenths: int
    true_peak_dbtp_tenths: int | None
    target_lufs_tenths: int
    true_peak_ceiling_tenths: int
    gain_db_tenths: int
    capped_by_true_peak: bool

    @property
    def gain_filter(self) -> str:
        """The ffmpeg filter that applies the gain, in float so nothing clips on the way."""
        return f"volume={tenths_to_text(self.gain_db_tenths)}dB:precision=float"


def tenths_to_text(tenths: int) -> str:
    """`-32` → `"-3.2"`: exact, no float on the way."""
    sign = "-" if tenths < 0 else ""
    whole, frac = divmod(abs(tenths), 10)
    return f"{sign}{whole}.{frac}"


def parse_ebur128_summary(log: str) -> Measurement:
    """The integrated loudness and true peak from the filter's closing summary."""
    integrated = _INTEGRATED.findall(log)
    peak = _TRUE_PEAK.findall(log)
    if not integrated:
        raise LoudnessUnavailable("no EBU R128 summary in ffmpeg's output")
    lufs = _to_tenths(integrated[-1])
    return Measurement(
        integrated_lufs_tenths=SILENCE_LUFS_TENTHS if lufs is None else lufs,
        true_peak_dbtp_tenths=_to_tenths(peak[-1]) if peak else None,
    )


def gain_toward(measured: Measurement, target_lufs_tenths: int, true_peak_ceiling_tenths: int) -> Loudness:
    """The gain that reaches the target, lowered if the true peak would pass the ceiling."""
    wanted = target_lufs_tenths - measured.integrated_lufs_tenths
    gain, capped = wanted, False
    if measured.true_peak_dbtp_tenths is not None:
        headroom = true_peak_ceiling_tenths - measured.true_peak_dbtp_tenths
        if headroom < wanted:
            gain, capped = headroom, True
    return Loudness(
        integrated_lufs_tenths=measured.integrated_lufs_tenths,
        true_peak_dbtp_tenths=measured.true_peak_dbtp_tenths,
        target_lufs_tenths=target_lufs_tenths,
        true_peak_ceiling_tenths=true_peak_ceiling_tenths,
        gain_db_tenths=gain,
        capped_by_true_peak=capped,
    )


def measure_loudness(path: Path | str, demuxer: str | None = None, timeout_s: float | None = None) -> Measurement:
    """Measure a file on its own (the pipeline gets the same figures from its one decode)."""
    fmt = ["-f", demuxer] if demuxer else []
    run = run_ffmpeg(
        ["-nostats", *fmt, "-i", f"file:{path}", "-af", EBUR128_FILTER, "-f", "null", "-"],
        timeout_s=timeout_for(None) if timeout_s is None else timeout_s,
    )
    return parse_ebur128_summary(run.stderr)


def _to_tenths(text: str) -> int | None:
    if text.endswith("inf"):
        return None
    return int((Decimal(text) * 10).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
