"""Acoustic fingerprints (Chromaprint, via ffmpeg's muxer) and how alike two of them are.

A raw Chromaprint fingerprint is a sequence of 32-bit frames, about eight a second;
the same recording re-encoded keeps most bits of most frames, unrelated audio agrees
on about half of them. Similarity is one minus the bit error rate over the frames
that overlap, at the best of a few small offsets (encoders add a little delay).
Fingerprints travel as base64 of the little-endian frames, and scores as integer
basis points (10 000 = identical), so events hold no floats.
"""

from __future__ import annotations

import base64
import struct
from dataclasses import dataclass
from pathlib import Path

from media.ffmpeg import run_ffmpeg, timeout_for

ALGORITHM = 1  # Chromaprint's default (TEST2), the one ffmpeg's muxer uses unless told
MAX_OFFSET_FRAMES = 8  # about one second either way
MIN_OVERLAP_FRAMES = 8
DEFAULT_THRESHOLD_BP = 8_500
MIN_COVERAGE_BP = 5_000  # a 10-second clip is not a duplicate of the 3-minute song it opens
FULL_SCORE_BP = 10_000


@dataclass(frozen=True)
class Fingerprint:
    """The raw Chromaprint frames of one recording's audio."""

    frames: tuple[int, ...]
    algorithm: int = ALGORITHM

    @classmethod
    def from_raw(cls, raw: bytes, algorithm: int = ALGORITHM) -> Fingerprint:
        """From ffmpeg's `-fp_format raw` output: little-endian unsigned 32-bit frames."""
        usable = len(raw) - len(raw) % 4
        return cls(struct.unpack(f"<{usable // 4}I", raw[:usable]), algorithm)

    @classmethod
    def from_base64(cls, text: str, algorithm: int = ALGORITHM) -> Fingerprint:
        return cls.from_raw(base64.b64decode(text, validate=True), algorithm)

    def to_raw(self) -> bytes:
        return struct.pack(f"<{len(self.frames)}I", *self.frames)

    def to_base64(self) -> str:
        return base64.b64encode(self.to_raw()).decode("ascii")


@dataclass(frozen=True)
class Match:
    """How alike two fingerprints are at their best alignment."""

    score_bp: int  # 10 000 × (1 − bit error rate); about 5 000 for unrelated audio
    offset_frames: int  # positive: b's audio starts this many frames later than a's
    overlap_frames: int
    coverage_bp: int  # the overlap as a share of the longer fingerprint


def chromaprint_output_args(destination: Path) -> list[str]:
    """The output options that make one ffmpeg output a raw fingerprint file."""
    return [
        "-f",
        "chromaprint",
        "-fp_format",
        "raw",
        "-algorithm",
        str(ALGORITHM),
        str(destination),
    ]


def fingerprint_file(path: Path | str, timeout_s: float | None = None) -> Fingerprint:
    """Fingerprint a file on its own (the pipeline makes it during the rendition pass)."""
    run = run_ffmpeg(
        ["-nostats", "-i", f"file:{path}", "-map", "0:a:0", *chromaprint_output_args(Path("-"))],
        timeout_s=timeout_for(None) if timeout_s is None else timeout_s,
    )
    return Fingerprint.from_raw(run.stdout)


def compare(a: Fingerprint, b: Fingerprint, max_offset: int = MAX_OFFSET_FRAMES) -> Match:
    """The best alignment of `a` and `b` within ±`max_offset` frames.

    Frames are XORed as one big integer per alignment, so the work is done by
    CPython's arbitrary-precision arithmetic and `int.bit_count`, not a Python loop
    over frames. Alignments that overlap by fewer than MIN_OVERLAP_FRAMES are skipped.
    """
    if a.algorithm != b.algorithm:
        raise ValueError("fingerprints made by different Chromaprint algorithms")
    raw_a, raw_b = a.to_raw(), b.to_raw()
    longest = max(len(a.frames), len(b.frames))
    best = Match(0, 0, 0, 0)
    for offset in range(-max_offset, max_offset + 1):
        start_a, start_b = max(0, -offset), max(0, offset)
        overlap = min(len(a.frames) - start_a, len(b.frames) - start_b)
        if overlap < MIN_OVERLAP_FRAMES:
            continue
        chunk_a = int.from_bytes(raw_a[start_a * 4 : (start_a + overlap) * 4], "little")
        chunk_b = int.from_bytes(raw_b[start_b * 4 : (start_b + overlap) * 4], "little")
        differing = (chunk_a ^ chunk_b).bit_count()
        total = 32 * overlap
        score = (FULL_SCORE_BP * (total - differing)) // total
        if score > best.score_bp:
            best = Match(score, offset, overlap, FULL_SCORE_BP * overlap // longest)
    return best


def likely_duplicate(a: Fingerprint, b: Fingerprint, threshold_bp: int = DEFAULT_THRESHOLD_BP) -> bool:
    """Whether `a` and `b` are probably the same audio: alike enough over enough of it."""
    match = compare(a, b)
    return match.score_bp >= threshold_bp and match.coverage_bp >= MIN_COVERAGE_BP
