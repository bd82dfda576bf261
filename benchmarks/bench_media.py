"""Media pipeline throughput on a generated 3-minute stereo 44.1 kHz master.

The pipeline (strict decode + EBU R128 measure in one pass, then one process that
encodes Opus 128k / MP3 320k / AAC 256k and the fingerprint from one decode, published
to a blob store) is timed beside two baselines measured in the same run:

- naive: a strict decode to validate, then for each rendition its own two-pass
  `loudnorm` (measure, then normalise and encode; each pass decodes the source again),
  then a separate fingerprint process; every output published to the blob store.
- separate: the same measurement as the pipeline, but one ffmpeg process per rendition
  and one for the fingerprint, each decoding the source again (what one decode saves).

Run with `python -m benchmarks.bench_media` (ROYALTY_BENCH_RUNS sets the repetitions).
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path

from benchmarks.report import Figure, emit, median_of, timed
from media.blobstore import BlobStore
from media.config import MediaConfig, Rung
from media.ffmpeg import run_ffmpeg
from media.fingerprint import chromaprint_output_args
from media.loudness import gain_toward, measure_loudness
from media.pipeline import Transcoded, process_upload
from media.renditions import PRESETS, output_sample_rate

BENCH = "media"
MASTER_SECONDS = 180
RUNS = int(os.environ.get("ROYALTY_BENCH_RUNS", "3"))
MASTER = (
    "aevalsrc=0.25*sin(2*PI*(220+110*sin(2*PI*0.1*t))*t)|0.25*sin(2*PI*(330+90*sin(2*PI*0.07*t))*t)"
    f":s=44100:d={MASTER_SECONDS}"
)


def make_master(folder: Path) -> Path:
    master = folder / "master.wav"
    noise = f"anoisesrc=d={MASTER_SECONDS}:r=44100:a=0.05:color=pink:seed=1"
    graph = "[0][1]amix=inputs=2:normalize=0,aformat=channel_layouts=stereo"
    inputs = ["-f", "lavfi", "-i", MASTER, "-f", "lavfi", "-i", noise]
    run_ffmpeg(
        ["-v", "error", "-y", *inputs, "-filter_complex", graph, "-c:a", "pcm_s16le", str(master)],
        timeout_s=120,
    )
    return master


def run_pipeline(master: Path, blobs: Path) -> None:
    shutil.rmtree(blobs, ignore_errors=True)
    config = MediaConfig(blob_dir=blobs)
    outcome = process_upload(master, "wav", MASTER_SECONDS * 1000, config)
    assert isinstance(outcome, Transcoded), outcome


def encode_one(master: Path, rung: Rung, audio_filter: str, out: Path) -> None:
    preset = PRESETS[rung.format]
    rate = output_sample_rate(preset, 44100)
    decode = ["-nostats", "-v", "error", "-y", "-i", str(master), "-af", audio_filter]
    encode = ["-ar", str(rate), "-c:a", preset.codec, "-b:a", f"{rung.bitrate_kbps}k"]
    run_ffmpeg([*decode, *encode, *preset.extra, "-f", preset.muxer, str(out)], timeout_s=600)


def loudnorm_two_pass(master: Path, rung: Rung, out: Path) -> None:
    target = "I=-14:TP=-2:LRA=11"
    measure = ["-af", f"loudnorm={target}:print_format=json"]
    first = run_ffmpeg(["-nostats", "-i", str(master), *measure, "-f", "null", "-"], timeout_s=600)
    found = re.search(r"\{[^{}]*\"input_i\"[^{}]*\}", first.stderr)
    assert found, "loudnorm printed no measurement"
    m = json.loads(found.group(0))
    measured = (
        f"measured_I={m['input_i']}:measured_TP={m['input_tp']}:measured_LRA={m['input_lra']}"
        f":measured_thresh={m['input_thresh']}:offset={m['target_offset']}:linear=true"
    )
    encode_one(master, rung, f"loudnorm={target}:{measured}", out)


def fingerprint_alone(master: Path, out: Path) -> None:
    run_ffmpeg(
        ["-nostats", "-v", "error", "-y", "-i", str(master), *chromaprint_output_args(out)],
        timeout_s=600,
    )


def validate_alone(master: Path) -> None:
    strict = ["-nostats", "-xerror", "-err_detect", "explode", "-i", str(master)]
    run_ffmpeg([*strict, "-f", "null", "-"], timeout_s=600)


def run_naive(master: Path, work: Path) -> None:
    store = fresh_store(work)
    validate_alone(master)
    for rung in MediaConfig().ladder:
        out = work / f"naive.{PRESETS[rung.format].extension}"
        loudnorm_two_pass(master, rung, out)
        store.put_file(out, move=True)
    fingerprint_alone(master, work / "naive.fp")


def run_separate(master: Path, work: Path) -> None:
    store = fresh_store(work)
    validate_alone(master)
    loudness = gain_toward(measure_loudness(master), -140, -20)
    for rung in MediaConfig().ladder:
        out = work / f"separate.{PRESETS[rung.format].extension}"
        encode_one(master, rung, loudness.gain_filter, out)
        store.put_file(out, move=True)
    fingerprint_alone(master, work / "separate.fp")


def fresh_store(work: Path) -> BlobStore:
    shutil.rmtree(work / "blobs", ignore_errors=True)
    return BlobStore(work / "blobs")


def wall_and_cpu(fn: Callable[[], None]) -> tuple[float, float]:
    """Median wall time, and median CPU time of the ffmpeg processes (load-independent)."""
    cpus: list[float] = []

    def once() -> float:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall = timed(fn)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        return wall

    return median_of(RUNS, once), statistics.median(cpus)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-media-") as tmp:
        folder = Path(tmp)
        master = make_master(folder)
        pipeline_s, pipeline_cpu = wall_and_cpu(lambda: run_pipeline(master, folder / "b"))
        naive_s, naive_cpu = wall_and_cpu(lambda: run_naive(master, folder))
        separate_s, separate_cpu = wall_and_cpu(lambda: run_separate(master, folder))
    pipeline_x, naive_x, separate_x = (MASTER_SECONDS / t for t in (pipeline_s, naive_s, separate_s))
    naive = "naive: process per rendition, 2-pass loudnorm"
    separate = "separate: same gain, one decode per output"
    target = ">= 20x real time, >= 1.5x naive"
    emit(Figure(BENCH, "whole pipeline, 3-min master", pipeline_x, "x realtime", naive, naive_x, target))
    emit(Figure(BENCH, "whole pipeline vs a process per output", pipeline_x, "x realtime", separate, separate_x))
    emit(Figure(BENCH, "whole pipeline wall time", pipeline_s, "s", "naive", naive_s))
    emit(Figure(BENCH, "whole pipeline ffmpeg CPU time", pipeline_cpu, "cpu s", "naive", naive_cpu))
    emit(Figure(BENCH, "separate-process ffmpeg CPU time", separate_cpu, "cpu s", "naive", naive_cpu))


if __name__ == "__main__":
    main()
