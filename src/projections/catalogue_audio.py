"""The catalogue view's audio: one `cat_audio` row per upload, and each recording's audio status.

A recording's status is its latest upload's (by the upload's position): none, pending, ready,
failed, or duplicate_suspected. Folded from AudioAsset events by the catalogue view; the rows
carry what a person needs (renditions, loudness, the failure's reason, the suspected
duplicates), never the fingerprint.
"""

from __future__ import annotations

import json
from typing import Any

from ledger.domain.audio import AudioAsset, recording_audio_status
from projections.db import ViewDB


def write_asset(db: ViewDB, t: dict[str, str], asset: AudioAsset, uploaded_position: int | None, position: int) -> None:
    """Replace the asset's row, then recompute its recording's status column.

    `uploaded_position` is known when the upload is in the batch being folded; otherwise the
    asset's row, folded in an earlier batch, has it.
    """
    if uploaded_position is None:
        rows = db.execute(
            f"SELECT uploaded_position FROM {t['cat_audio']} WHERE isrc = ? AND sha256 = ?", [asset.isrc, asset.sha256]
        )
        uploaded_position = int(rows[0][0])
    detail = json.dumps(asset.summary(), sort_keys=True, separators=(",", ":"))
    status = recording_audio_status(asset)
    db.execute(f"DELETE FROM {t['cat_audio']} WHERE isrc = ? AND sha256 = ?", [asset.isrc, asset.sha256])
    db.execute(
        f"INSERT INTO {t['cat_audio']} VALUES (?, ?, ?, ?, ?, ?)",
        [asset.isrc, asset.sha256, status, detail, uploaded_position, position],
    )
    db.execute(
        f"UPDATE {t['cat_recordings']} SET audio_status = ? WHERE isrc = ?",
        [latest_status(db, t, asset.isrc), asset.isrc],
    )


def latest_status(db: ViewDB, t: dict[str, str], isrc: str) -> str:
    rows = db.execute(
        f"SELECT status FROM {t['cat_audio']} WHERE isrc = ? ORDER BY uploaded_position DESC LIMIT 1",
        [isrc],
    )
    return str(rows[0][0]) if rows else "none"


def recording_audio(db: ViewDB, isrc: str) -> dict[str, Any]:
    """The read model's answer: status, the current upload, and every upload, oldest first."""
    rows = db.execute("SELECT status, detail FROM cat_audio WHERE isrc = ? ORDER BY uploaded_position", [isrc])
    uploads = [json.loads(detail) for _, detail in rows]
    return {
        "status": str(rows[-1][0]) if rows else "none",
        "current": uploads[-1] if uploads else None,
        "uploads": uploads,
    }
