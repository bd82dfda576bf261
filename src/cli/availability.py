"""`royalty catalogue takedown` / `reinstate`: a release (UPC) or a recording (ISRC), by territory."""

from __future__ import annotations

from typing import Any

import typer

from api.routers import recordings as recordings_api
from api.routers import releases as releases_api
from api.schemas.catalogue import AvailabilityCreate, AvailabilityWritten
from api.schemas.common import Isrc, Upc
from cli.context import ledger
from cli.output import JSON_OPTION
from cli.writes import operator, parse, perform

CODE = typer.Argument(..., help="A UPC/EAN (release) or an ISRC (recording).")
TERRITORIES = typer.Option(None, "--territory", help="ISO country code (repeat); default WW, everywhere.")
REASON = typer.Option(..., "--reason", help="Why (recorded; shown in the ownership trail).")
EFFECTIVE_AT = typer.Option(None, "--at", help="From when: ISO 8601 UTC (default: now).")


def _change(code: str, territories: list[str] | None, reason: str, at: str | None, reinstate: bool) -> Any:
    app = ledger()
    body = AvailabilityCreate.model_validate(
        {"territories": territories or ["WW"], "reason": reason, "effective_at": at}
    )
    if code.strip().replace("-", "").isdigit():
        rel = app.get_release(parse(Upc, code, "upc"))
        on_release = releases_api.reinstate_release if reinstate else releases_api.take_down_release
        return on_release(rel, body, app, operator())
    rec = app.get_recording(parse(Isrc, code, "isrc"))
    on_recording = recordings_api.reinstate_recording if reinstate else recordings_api.take_down_recording
    return on_recording(rec, body, app, operator())


def _line(code: str) -> Any:
    def render(doc: dict[str, Any]) -> str:
        last = doc["availability"][-1]
        return (
            f"{code}: {last['action']} {','.join(last['territories'])} from {last['effective_at']}"
            f" — {last['reason']} (position {doc['position']})"
        )

    return render


def take_down(
    code: str = CODE,
    territories: list[str] = TERRITORIES,
    reason: str = REASON,
    at: str = EFFECTIVE_AT,
    as_json: bool = JSON_OPTION,
) -> None:
    """Take a release or recording down: plays after `--at` accrue nothing and are quarantined."""

    def write() -> AvailabilityWritten:
        written: AvailabilityWritten = _change(code, territories, reason, at, reinstate=False)
        return written

    perform(as_json, write, _line(code))


def reinstate(
    code: str = CODE,
    territories: list[str] = TERRITORIES,
    reason: str = REASON,
    at: str = EFFECTIVE_AT,
    as_json: bool = JSON_OPTION,
) -> None:
    """Make a taken-down release or recording available again from `--at`."""

    def write() -> AvailabilityWritten:
        written: AvailabilityWritten = _change(code, territories, reason, at, reinstate=True)
        return written

    perform(as_json, write, _line(code))
