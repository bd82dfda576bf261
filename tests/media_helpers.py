"""Real audio for media tests, made by the wheel's ffmpeg: music-like signals, re-encodes, bad files."""

from __future__ import annotations

import zlib
from pathlib import Path

from ledger.application import RoyaltyLedger
from media.ffmpeg import run_ffmpeg

SECONDS = 6  # Chromaprint needs a few seconds before its first frame
MUSIC = "aevalsrc=0.3*sin(2*PI*({a}+200*sin(2*PI*0.5*t))*t)+0.2*sin(2*PI*({b}+300*sin(2*PI*0.3*t))*t):s=44100:d={d}"
ISRCS = ("GBAYE2600001", "GBAYE2600002", "GBAYE2600003", "GBAYE2600004")


def music_wav(out: Path, a: int = 300, b: int = 800, seconds: float = SECONDS) -> Path:
    run_ffmpeg(
        [
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            MUSIC.format(a=a, b=b, d=seconds),
            "-ac",
            "2",
            "-c:a",
            "pcm_s16le",
            str(out),
        ],
        timeout_s=30,
    )
    return out


def tone_wav(out: Path, hz: int = 660, seconds: float = SECONDS) -> Path:
    run_ffmpeg(
        [
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"sine=f={hz}:r=44100:d={seconds}",
            "-ac",
            "2",
            "-c:a",
            "pcm_s16le",
            str(out),
        ],
        timeout_s=30,
    )
    return out


def mp3_of(source: Path, out: Path) -> Path:
    run_ffmpeg(["-v", "error", "-y", "-i", str(source), "-c:a", "libmp3lame", "-b:a", "192k", str(out)], timeout_s=30)
    return out


def truncated(source: Path, out: Path) -> Path:
    data = source.read_bytes()
    out.write_bytes(data[: len(data) // 3])
    return out


def png(out: Path) -> Path:
    """A real 1×1 PNG image."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")

    ihdr = (1).to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])
    out.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )
    return out


def seed_recordings(app: RoyaltyLedger) -> None:
    app.upsert_party("alice", "Alice", ["artist"], "test")
    for n, isrc in enumerate(ISRCS, start=1):
        app.upsert_recording(isrc, f"Song {n}", "Alice", SECONDS * 1000, "test")
