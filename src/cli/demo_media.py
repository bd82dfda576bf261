"""Demo step: generate a few masters with ffmpeg, upload them, run the media worker, show the results.

Four recordings of the demo catalogue get audio: two original masters (WAV, FLAC), an MP3
re-encoded from the first one (flagged as a likely duplicate) and a truncated WAV (refused
with its reason). A recording that already has an upload is left alone, so the step can run
twice. The catalogue read model is brought up to date so it shows each audio status.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cli.context import actor
from cli.output import console
from ledger.application import RoyaltyLedger
from ledger.domain.period import Period
from ledger.domain.recording import Recording
from media.config import MediaConfig
from media.ffmpeg import run_ffmpeg
from media.loudness import tenths_to_text
from media.upload import upload_audio
from media.worker import MediaWorker
from projections.db import ViewDB
from projections.projector import Projector

FOLDER = Path("var") / "demo-media"
# Gliding tones and a little noise: something a fingerprint can hold on to.
MUSIC = (
    "aevalsrc=0.3*sin(2*PI*({a}+200*sin(2*PI*0.5*t))*t)+0.2*sin(2*PI*({b}+300*sin(2*PI*0.3*t))*t)"
    "+0.02*(random(0)-0.5):s=44100:d={d}"
)
TRACKS = (  # (file, how it is made, declared duration ms)
    ("master-one.wav", "music", 6_000),
    ("master-two.flac", "music2", 7_000),
    ("master-one-reencoded.mp3", "reencode", 6_000),
    ("master-three-truncated.wav", "truncate", 8_000),
)


def _make(folder: Path, name: str, how: str, seconds: float) -> Path:
    out = folder / name
    if out.exists():
        return out
    base = ["-v", "error", "-y", "-fflags", "+bitexact"]
    if how == "music":
        run_ffmpeg(
            [
                *base,
                "-f",
                "lavfi",
                "-i",
                MUSIC.format(a=300, b=800, d=seconds),
                "-ac",
                "2",
                "-c:a",
                "pcm_s16le",
                "-flags",
                "+bitexact",
                str(out),
            ],
            timeout_s=60,
        )
    elif how == "music2":
        run_ffmpeg(
            [
                *base,
                "-f",
                "lavfi",
                "-i",
                MUSIC.format(a=420, b=1300, d=seconds),
                "-ac",
                "2",
                "-c:a",
                "flac",
                "-flags",
                "+bitexact",
                str(out),
            ],
            timeout_s=60,
        )
    elif how == "reencode":
        source = _make(folder, TRACKS[0][0], "music", TRACKS[0][2] / 1000)
        run_ffmpeg(
            [*base, "-i", str(source), "-c:a", "libmp3lame", "-b:a", "192k", "-flags", "+bitexact", str(out)],
            timeout_s=60,
        )
    else:  # a master cut off in transfer: the first 40 % of a WAV
        whole = _make(folder, "master-three-whole.wav", "music", seconds)
        data = whole.read_bytes()
        out.write_bytes(data[: len(data) * 2 // 5])
    return out


def _pick_recordings(app: RoyaltyLedger, count: int) -> list[Recording]:
    registered = Recording.Registered  # type: ignore[attr-defined]
    recordings: list[Recording] = [app.repository.get(i) for i in dict.fromkeys(app.aggregate_ids_with(registered))]
    return sorted(recordings, key=lambda r: r.isrc)[:count]


def run(app: RoyaltyLedger, period: Period, as_json: bool) -> dict[str, Any]:
    config = MediaConfig.from_env()
    FOLDER.mkdir(parents=True, exist_ok=True)
    recordings = _pick_recordings(app, len(TRACKS))
    uploaded = []
    for rec, (name, how, declared_ms) in zip(recordings, TRACKS, strict=False):
        if app.audio_assets(rec.isrc):
            continue  # this recording has its audio already (a second demo run)
        path = _make(FOLDER, name, how, declared_ms / 1000)
        done = upload_audio(app, rec.isrc, path, actor(), declared_duration_ms=declared_ms, config=config)
        uploaded.append(done.to_dict())
    handled = MediaWorker(app, config).run_once()
    Projector(app, ViewDB(app.config), models=["catalogue"]).catch_up()
    tracks = [{"isrc": rec.isrc, "title": rec.title, **app.audio_of(rec.isrc)} for rec in recordings]
    view = _view_statuses(app, [rec.isrc for rec in recordings])
    doc = {"uploaded": uploaded, "worker_handled": len(handled), "tracks": tracks, "catalogue_view_audio_status": view}
    if not as_json:
        _render(doc)
    return doc


def _view_statuses(app: RoyaltyLedger, isrcs: list[str]) -> dict[str, str]:
    db = ViewDB(app.config)
    try:
        marks = ",".join("?" * len(isrcs))
        rows = (
            db.execute(f"SELECT isrc, audio_status FROM cat_recordings WHERE isrc IN ({marks})", isrcs) if isrcs else []
        )
    finally:
        db.close()
    return {str(i): str(s) for i, s in rows}


def _render(doc: dict[str, Any]) -> None:
    console.print(
        f"[bold]media[/]: {len(doc['uploaded'])} masters uploaded, {doc['worker_handled']} handled by the worker"
    )
    for track in doc["tracks"]:
        current = track["current"] or {}
        parts = []
        if loud := current.get("loudness"):
            peak = loud["true_peak_dbtp_tenths"]
            parts.append(
                f"{tenths_to_text(loud['integrated_lufs_tenths'])} LUFS, true peak "
                f"{'-inf' if peak is None else tenths_to_text(peak)} dBTP, "
                f"gain {tenths_to_text(loud['gain_db_tenths'])} dB"
            )
        if renditions := current.get("renditions"):
            parts.append(
                ", ".join(f"{r['format']} {r['bitrate_kbps']}k {r['size_bytes'] // 1000} kB" for r in renditions)
            )
        parts += [
            f"likely duplicate of {d['isrc']} ({d['score_bp'] / 100:.1f} % alike)"
            for d in current.get("duplicates", [])
        ]
        if failure := current.get("failure"):
            parts.append(f"[red]{failure['reason']}[/]")
        console.print(f"  {track['isrc']} {track['title']}: [bold]{track['status']}[/] — " + "; ".join(parts))
    console.print(
        "catalogue read model: "
        + ", ".join(f"{isrc} {status}" for isrc, status in sorted(doc["catalogue_view_audio_status"].items()))
    )
