"""The media pipeline's settings, read from `ROYALTY_MEDIA_*` environment variables.

Levels are kept in tenths of a dB (`-140` is −14.0 LUFS) and durations in milliseconds,
so every figure that reaches an event is an exact integer. Environment values are
written the way people think of them: `ROYALTY_MEDIA_TARGET_LUFS=-14`,
`ROYALTY_MEDIA_MIN_DURATION_S=1.5`, `ROYALTY_MEDIA_LADDER=opus:128,mp3:320,aac:256`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path

from ledger.store.blobs import DEFAULT_BLOB_DIR, DEFAULT_MAX_UPLOAD_BYTES

PREFIX = "ROYALTY_MEDIA_"
MIB = 1024 * 1024
RENDITION_FORMATS = ("opus", "mp3", "aac")


@dataclass(frozen=True)
class Rung:
    """One rung of the rendition ladder: a streaming format and its bitrate."""

    format: str  # one of RENDITION_FORMATS
    bitrate_kbps: int

    def __post_init__(self) -> None:
        if self.format not in RENDITION_FORMATS:
            raise ValueError(f"unknown rendition format {self.format!r}")
        if not 8 <= self.bitrate_kbps <= 512:
            raise ValueError(f"bitrate {self.bitrate_kbps} kb/s is out of range 8..512")


DEFAULT_LADDER = (Rung("opus", 128), Rung("mp3", 320), Rung("aac", 256))


@dataclass(frozen=True)
class MediaConfig:
    """Everything the pipeline can be tuned by; the defaults are the platform's policy."""

    blob_dir: Path = DEFAULT_BLOB_DIR  # the API reads the same variables (ledger.store.blobs)
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    target_lufs_tenths: int = -140
    true_peak_ceiling_tenths: int = -20  # dBTP after gain, headroom for lossy codecs
    ladder: tuple[Rung, ...] = field(default=DEFAULT_LADDER)
    min_duration_ms: int = 1_000
    max_duration_ms: int = 30 * 60 * 1_000
    duration_tolerance_ms: int = 500  # decoded vs declared
    timeout_base_s: float = 60.0
    timeout_per_audio_second: float = 0.5
    duplicate_threshold_bp: int = 8_500  # fingerprint similarity, basis points of 10 000

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> MediaConfig:
        """Defaults overridden by whichever `ROYALTY_MEDIA_*` variables are set."""
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(PREFIX + name)
            return value.strip() if value and value.strip() else None

        d = cls()
        return cls(
            blob_dir=Path(get("BLOB_DIR") or d.blob_dir),
            max_upload_bytes=_scaled(get("MAX_UPLOAD_MIB"), MIB, d.max_upload_bytes),
            target_lufs_tenths=_scaled(get("TARGET_LUFS"), 10, d.target_lufs_tenths),
            true_peak_ceiling_tenths=_scaled(get("TRUE_PEAK_CEILING_DBTP"), 10, d.true_peak_ceiling_tenths),
            ladder=parse_ladder(get("LADDER")) if get("LADDER") else d.ladder,
            min_duration_ms=_scaled(get("MIN_DURATION_S"), 1000, d.min_duration_ms),
            max_duration_ms=_scaled(get("MAX_DURATION_S"), 1000, d.max_duration_ms),
            duration_tolerance_ms=_scaled(get("DURATION_TOLERANCE_S"), 1000, d.duration_tolerance_ms),
            timeout_base_s=float(get("TIMEOUT_BASE_S") or d.timeout_base_s),
            timeout_per_audio_second=float(get("TIMEOUT_PER_AUDIO_SECOND") or d.timeout_per_audio_second),
            duplicate_threshold_bp=_scaled(get("DUPLICATE_THRESHOLD"), 10_000, d.duplicate_threshold_bp),
        )


def parse_ladder(text: str | None) -> tuple[Rung, ...]:
    """`"opus:128,mp3:320"` → the ladder; an empty ladder is refused."""
    rungs = []
    for item in (text or "").split(","):
        if not item.strip():
            continue
        fmt, sep, kbps = item.strip().partition(":")
        if not sep or not (kbps.strip().isascii() and kbps.strip().isdigit()):
            raise ValueError(f"ladder rung {item!r} is not FORMAT:KBPS, e.g. mp3:320")
        rungs.append(Rung(fmt.strip().lower(), int(kbps)))
    if not rungs:
        raise ValueError("the rendition ladder is empty")
    return tuple(rungs)


def _scaled(text: str | None, scale: int, default: int) -> int:
    """A decimal written by a person, as an exact integer number of 1/scale units."""
    if text is None:
        return default
    try:
        return int((Decimal(text) * scale).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
    except (InvalidOperation, ValueError):
        raise ValueError(f"not a finite number: {text!r}") from None
