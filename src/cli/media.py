"""`royalty media`: upload a master for a recording, run the media worker, show a recording's audio."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.context import actor, ledger
from cli.output import JSON_OPTION, console, err_console, fail, report, table
from ledger.application import NotFound
from ledger.domain.identifiers import InvalidIdentifier, parse_isrc
from ledger.domain.party import DomainError
from media.blobstore import FileTooLarge
from media.config import MediaConfig
from media.loudness import tenths_to_text
from media.upload import upload_audio
from media.worker import MediaWorker

app = typer.Typer(help="Audio: upload masters, run the media worker, show audio status.", no_args_is_help=True)


def _config(as_json: bool) -> MediaConfig:
    try:
        return MediaConfig.from_env()
    except ValueError as exc:
        fail(f"media configuration: {exc}", as_json)


@app.command("upload")
def upload(
    isrc: Annotated[str, typer.Argument(help="The recording's ISRC (it must be delivered already).")],
    file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, readable=True, help="The master audio file (WAV, FLAC, AIFF or MP3)."
        ),
    ],
    declared_duration_ms: int = typer.Option(
        None, "--declared-duration-ms", help="The master's duration; checked on decode."
    ),
    declared_format: str = typer.Option(None, "--format", help="Claimed format (default: the file name's)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Store the original by SHA-256 and record AudioUploaded; the worker does the rest."""
    try:
        done = upload_audio(
            ledger(),
            isrc,
            file,
            actor(),
            declared_format=declared_format,
            declared_duration_ms=declared_duration_ms,
            config=_config(as_json),
        )
    except (NotFound, InvalidIdentifier, DomainError, FileTooLarge) as exc:
        fail(str(exc), as_json)
    doc = {"ok": True, **done.to_dict()}
    report(
        doc,
        as_json,
        lambda: console.print(
            f"{'uploaded' if done.created else 'already uploaded'}: {done.isrc} ← {done.original_name} "
            f"({done.size_bytes:,} bytes, sha256 {done.sha256[:12]}…), {done.status}"
        ),
    )


@app.command("worker")
def worker(
    once: bool = typer.Option(False, "--once", help="Handle the uploads recorded so far, then exit."),
    poll_seconds: float = typer.Option(1.0, "--poll-seconds", help="Wait between polls (SQLite)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Follow AudioUploaded from the worker's own position; record each upload's outcome."""

    def progress(line: str) -> None:
        print(f"media worker: {line}", file=sys.stderr, flush=True)

    runner = MediaWorker(ledger(), _config(as_json), progress=progress)
    if once:
        outcomes = [o.to_dict() for o in runner.run_once()]
        doc: dict[str, Any] = {
            "position": runner.position(),
            "handled": outcomes,
            "stale_staging_removed": runner.swept,
        }
        report(doc, as_json, lambda: _render_outcomes(outcomes))
        return
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    err_console.print(f"media worker following the log from position {runner.position()}")
    runner.follow(stop, poll_seconds)
    report({"position": runner.position(), "stopped": True}, as_json, lambda: err_console.print("media worker stopped"))


def _render_outcomes(outcomes: list[dict[str, Any]]) -> None:
    if not outcomes:
        console.print("no uploads waiting")
    for o in outcomes:
        console.print(f"[bold]{o['isrc']}[/] {o['sha256'][:12]}… at {o['position']}: {o['status']}")
        if o["status"] == "ready":
            render_audio(o["detail"])
        elif o["status"] == "failed":
            console.print(f"  [red]{o['detail']['failure']['reason']}[/]")


def render_audio(upload: dict[str, Any]) -> None:
    """Renditions, loudness, failure and duplicates of one upload's summary, for people."""
    if upload.get("failure"):
        failure = upload["failure"]
        console.print(
            f"  failed ({failure['code']}): {failure['reason']}" + (" — retryable" if failure["retryable"] else "")
        )
    if upload.get("loudness"):
        ld = upload["loudness"]
        peak = ld["true_peak_dbtp_tenths"]
        console.print(
            f"  {upload['detected_format']}, {upload['duration_ms'] / 1000:.1f} s; loudness "
            f"{tenths_to_text(ld['integrated_lufs_tenths'])} LUFS, true peak "
            f"{'-inf' if peak is None else tenths_to_text(peak)} dBTP, gain "
            f"{tenths_to_text(ld['gain_db_tenths'])} dB toward {tenths_to_text(ld['target_lufs_tenths'])} LUFS"
            + (" (capped by true peak)" if ld["capped_by_true_peak"] else "")
        )
    if upload.get("renditions"):
        console.print(
            table(
                "renditions",
                ["format", "kb/s", "Hz", "ms", "bytes", "sha256"],
                [
                    (
                        r["format"],
                        r["bitrate_kbps"],
                        r["sample_rate_hz"],
                        r["duration_ms"],
                        f"{r['size_bytes']:,}",
                        r["sha256"][:12] + "…",
                    )
                    for r in upload["renditions"]
                ],
            )
        )
    for dup in upload.get("duplicates", []):
        console.print(f"  [yellow]likely duplicate[/] of {dup['isrc']} ({dup['score_bp'] / 100:.2f} % alike)")


@app.command("status")
def status(
    isrc: str = typer.Argument(..., help="The recording's ISRC."),
    as_json: bool = JSON_OPTION,
) -> None:
    """A recording's audio: status (pending, ready, failed, duplicate_suspected) and its uploads."""
    app_ = ledger()
    try:
        code = parse_isrc(isrc)
        app_.get_recording(code)
        doc = {"isrc": code, **app_.audio_of(code)}
    except (NotFound, InvalidIdentifier) as exc:
        fail(str(exc), as_json)

    def render() -> None:
        console.print(f"[bold]{code}[/] audio: {doc['status']}")
        for upload in doc["uploads"]:
            console.print(f"upload {upload['original_name']} ({upload['sha256'][:12]}…): {upload['status']}")
            render_audio(upload)

    report(doc, as_json, render)
