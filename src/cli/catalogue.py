"""`royalty catalogue`: show releases, a release by UPC, or a recording by ISRC; import; take down."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import typer

from cli import availability, catalogue_import
from cli.context import ledger
from cli.media import render_audio
from cli.output import JSON_OPTION, console, fail, report, table
from ledger.application import NotFound, RoyaltyLedger
from ledger.domain.identifiers import InvalidIdentifier, parse_isrc, parse_release_key
from ledger.domain.release import Release
from ledger.domain.shares import format_ppm

app = typer.Typer(help="The catalogue: releases, recordings, works, credits.", no_args_is_help=True)


def release_doc(app_: RoyaltyLedger, rel: Release) -> dict[str, Any]:
    return {
        "upc": rel.upc,
        "title": rel.title,
        "label": rel.label_key,
        "type": rel.release_type,
        "release_date": rel.release_date,
        "territories": rel.territories,
        "status": rel.status,
        "delivered_by": rel.delivered_by,
        "tracks": rel.track_isrcs,
        "availability": rel.availability,
        "identifiers": rel.identifiers,
        "delivered_types": rel.delivered_types,
        "deals": rel.deals,
        "review_reasons": rel.review_reasons,
    }


def recording_doc(app_: RoyaltyLedger, isrc: str, now: datetime) -> dict[str, Any]:
    rec = app_.get_recording(isrc)
    doc: dict[str, Any] = {
        "isrc": rec.isrc,
        "title": rec.title,
        "display_artist": rec.display_artist,
        "duration_ms": rec.duration_ms,
        "work": rec.work_key,
        "credits": rec.credits,
        "availability": rec.availability,
        "audio": app_.audio_of(rec.isrc),
        "splits": {},
    }
    for right, key in (("master", rec.isrc), ("publishing", rec.work_key)):
        agreement = app_.find_split(right, key) if key else None
        version = agreement.version_in_force(now) if agreement else None
        doc["splits"][right] = (
            {"version": version["version"], "shares": version["shares"], "effective_from": version["effective_from"]}
            if version
            else None
        )
    return doc


@app.command("show")
def show(
    code: str = typer.Argument(
        None,
        help="An ISRC (recording), or a release's UPC/EAN, GRID:<GRid> or proprietary key; none lists releases.",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show the catalogue, one release, or one recording with its credits and splits in force."""
    app_ = ledger()
    try:
        if code is None:
            _list(app_, as_json)
        elif code.strip().replace("-", "").isdigit() or ":" in code:
            doc = release_doc(app_, app_.get_release(parse_release_key(code)))
            report(doc, as_json, lambda: _render_release(app_, doc))
        else:
            doc = recording_doc(app_, parse_isrc(code), app_.clock())
            report(doc, as_json, lambda: _render_recording(doc))
    except (NotFound, InvalidIdentifier) as exc:
        fail(str(exc), as_json)


def _list(app_: RoyaltyLedger, as_json: bool) -> None:
    ids = dict.fromkeys(app_.aggregate_ids_with(Release.Delivered))  # type: ignore[attr-defined]
    releases = [release_doc(app_, app_.repository.get(i)) for i in ids]
    rows = [
        (
            r["upc"],
            r["title"],
            r["label"],
            r["type"],
            r["release_date"],
            len(r["tracks"]),
            ",".join(r["territories"]),
            r["status"],
        )
        for r in releases
    ]
    report(
        {"releases": releases},
        as_json,
        lambda: console.print(
            table(
                f"{len(releases)} releases",
                ["UPC", "title", "label", "type", "released", "tracks", "territories", "status"],
                rows,
            )
        ),
    )


def _render_release(app_: RoyaltyLedger, doc: dict[str, Any]) -> None:
    console.print(
        f"[bold]{doc['title']}[/] — {doc['upc']}, {doc['type']}, label {doc['label']}, "
        f"released {doc['release_date']}, {doc['status']}, territories {','.join(doc['territories'])}"
    )
    console.print(f"known as {', '.join(doc['identifiers'])}; delivered as {', '.join(doc['delivered_types']) or '-'}")
    for reason in doc["review_reasons"]:
        console.print(f"[yellow]review:[/] {reason}")
    rows = []
    for n, isrc in enumerate(doc["tracks"], start=1):
        rec = app_.get_recording(isrc)
        rows.append(
            (n, isrc, rec.title, rec.display_artist, f"{rec.duration_ms // 60000}:{rec.duration_ms // 1000 % 60:02d}")
        )
    console.print(table("tracks", ["#", "ISRC", "title", "artist", "length"], rows))
    for change in doc["availability"]:
        console.print(
            f"  {change['action']} {','.join(change['territories'])} from {change['effective_at']}: {change['reason']}"
        )


def _render_recording(doc: dict[str, Any]) -> None:
    console.print(f"[bold]{doc['title']}[/] — {doc['display_artist']} — ISRC {doc['isrc']}, work {doc['work']}")
    console.print(table("credits", ["party", "role"], [(c["party"], c["role"]) for c in doc["credits"]]))
    for right, split in doc["splits"].items():
        if split:
            shares = ", ".join(f"{p} {format_ppm(ppm)}" for p, ppm in split["shares"].items())
            console.print(f"{right} split v{split['version']} (from {split['effective_from']}): {shares}")
        else:
            console.print(f"{right} split: none in force (earnings go to suspense)")
    for change in doc["availability"]:
        console.print(
            f"  {change['action']} {','.join(change['territories'])} from {change['effective_at']}: {change['reason']}"
        )
    console.print(f"audio: {doc['audio']['status']}")
    if doc["audio"]["current"]:
        render_audio(doc["audio"]["current"])


app.command("import")(catalogue_import.import_command)
app.command("takedown")(availability.take_down)
app.command("reinstate")(availability.reinstate)
