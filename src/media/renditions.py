"""Streaming renditions, all from ONE decode: one ffmpeg process, one filter graph.

The source is decoded once; the graph splits it before the gain (Chromaprint wants
the audio as uploaded) and after it (one branch per rung of the ladder). Outputs go
to a staging folder on the blob store's file system and are published (renamed in,
by hash) only once ffmpeg has finished them all: a failure or a kill leaves nothing
half-published. `-fflags +bitexact` keeps the bytes the same from run to run (no
encoder version tags, no random Ogg serial), so a retried job publishes the same blobs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from media.blobstore import BlobStore
from media.config import Rung
from media.ffmpeg import run_ffmpeg
from media.fingerprint import Fingerprint, chromaprint_output_args
from media.sniff import AudioFormat


@dataclass(frozen=True)
class Preset:
    """How one rendition format is encoded and packaged."""

    codec: str
    muxer: str
    container: str
    extension: str
    media_type: str
    extra: tuple[str, ...] = ()
    sample_rates: tuple[int, ...] = (44100, 48000)  # first is used below the range


PRESETS: dict[str, Preset] = {
    "opus": Preset("libopus", "opus", "ogg", "opus", "audio/ogg; codecs=opus", (), sample_rates=(48000,)),
    "mp3": Preset("libmp3lame", "mp3", "mp3", "mp3", "audio/mpeg"),
    "aac": Preset("aac", "ipod", "m4a", "m4a", "audio/mp4; codecs=mp4a.40.2", ("-movflags", "+faststart")),
}


@dataclass(frozen=True)
class Rendition:
    """One published rendition: what it is and which blob holds it."""

    format: str  # "opus" | "mp3" | "aac"
    container: str  # "ogg" | "mp3" | "m4a"
    media_type: str
    bitrate_kbps: int
    sample_rate_hz: int
    duration_ms: int
    size_bytes: int
    sha256: str


@dataclass(frozen=True)
class Encoded:
    renditions: tuple[Rendition, ...]
    fingerprint: Fingerprint


class RenditionFailed(Exception):
    """ffmpeg finished but an output is missing or incomplete."""


def output_sample_rate(preset: Preset, source_rate: int) -> int:
    """The source's rate when the format takes it, else the nearest rate it does take."""
    if source_rate in preset.sample_rates:
        return source_rate
    above = [r for r in preset.sample_rates if r >= source_rate]
    return min(above) if above else max(preset.sample_rates)


def filter_graph(gain_filter: str, outputs: int) -> str:
    """Source → [fp] (as uploaded) and → gain → [r0]…[rN-1]."""
    labels = "".join(f"[r{i}]" for i in range(outputs))
    return f"[0:a:0]aformat=channel_layouts=stereo|mono,asplit=2[fp][main];[main]{gain_filter},asplit={outputs}{labels}"


def encode_args(
    source: Path,
    demuxer: AudioFormat,
    source_rate: int,
    gain_filter: str,
    ladder: tuple[Rung, ...],
    staging: Path,
) -> tuple[list[str], list[Path]]:
    """The whole command after `ffmpeg`, and the rendition files it will write."""
    graph = filter_graph(gain_filter, len(ladder))
    resample = []
    args = ["-nostats", "-v", "verbose", "-f", demuxer.value, "-i", f"file:{source}"]
    paths = []
    for i, rung in enumerate(ladder):
        preset = PRESETS[rung.format]
        rate = output_sample_rate(preset, source_rate)
        # Resampling per branch: asplit makes its outputs agree, so a rate set on one
        # output would otherwise drag every rendition to it. The layout is pinned per
        # branch too, or a 5.1 master leaves ffmpeg unable to pick one for the encoder.
        resample.append(f"[r{i}]aresample={rate},aformat=channel_layouts=stereo|mono[o{i}]")
        path = staging / f"{i}-{rung.format}-{rung.bitrate_kbps}.{preset.extension}"
        paths.append(path)
        args += ["-map", f"[o{i}]", "-c:a", preset.codec, "-b:a", f"{rung.bitrate_kbps}k"]
        args += [*preset.extra, "-map_metadata", "-1", "-fflags", "+bitexact"]
        args += ["-flags:a", "+bitexact", "-f", preset.muxer, str(path)]
    args += ["-map", "[fp]", *chromaprint_output_args(staging / "fingerprint.raw")]
    return ["-filter_complex", ";".join([graph, *resample]), *args], paths


_ENCODED = re.compile(r"Output stream #(\d+):0 \(audio\): \d+ frames encoded \((\d+) samples\)")


def encoded_samples(log: str) -> dict[int, int]:
    """Samples each output encoded, by output index, from ffmpeg's verbose summary."""
    return {int(index): int(samples) for index, samples in _ENCODED.findall(log)}


def encode_renditions(
    source: Path,
    demuxer: AudioFormat,
    source_rate: int,
    gain_filter: str,
    ladder: tuple[Rung, ...],
    store: BlobStore,
    timeout_s: float,
) -> Encoded:
    """Encode every rung and the fingerprint in one process, then publish them all."""
    with store.staging_dir() as staging:
        args, paths = encode_args(source, demuxer, source_rate, gain_filter, ladder, staging)
        run = run_ffmpeg(args, timeout_s=timeout_s)
        samples = encoded_samples(run.stderr)
        staged = []
        for i, (rung, path) in enumerate(zip(ladder, paths, strict=True)):
            rate = output_sample_rate(PRESETS[rung.format], source_rate)
            if not path.is_file() or path.stat().st_size == 0 or not samples.get(i):
                raise RenditionFailed(f"{rung.format} {rung.bitrate_kbps}k was not written")
            staged.append((rung, path, rate, (samples[i] * 1000 + rate // 2) // rate))
        fingerprint = Fingerprint.from_raw((staging / "fingerprint.raw").read_bytes())
        renditions = []
        for rung, path, rate, duration_ms in staged:
            preset = PRESETS[rung.format]
            blob = store.put_file(path, move=True)
            renditions.append(
                Rendition(
                    rung.format,
                    preset.container,
                    preset.media_type,
                    rung.bitrate_kbps,
                    rate,
                    duration_ms,
                    blob.size_bytes,
                    blob.sha256,
                )
            )
    return Encoded(tuple(renditions), fingerprint)
