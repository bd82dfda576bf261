"""`royalty media` as a user types it: upload masters, run the worker once, read the audio status."""

from __future__ import annotations

from pathlib import Path

from ledger.application import RoyaltyLedger
from ledger.store.config import StoreConfig
from tests.e2e.cli_runner import royalty, royalty_json
from tests.media_helpers import ISRCS, music_wav, seed_recordings, truncated

A, B = ISRCS[:2]


def test_upload_run_the_worker_and_read_the_status_from_the_command_line(
    sqlite_config: StoreConfig, tmp_path: Path
) -> None:
    app = RoyaltyLedger(sqlite_config)
    seed_recordings(app)
    app.close()
    env = {"ROYALTY_MEDIA_BLOB_DIR": str(tmp_path / "blobs")}
    master = music_wav(tmp_path / "master.wav")
    cut = truncated(master, tmp_path / "cut.wav")

    up = royalty_json(sqlite_config, "media", "upload", A, str(master), "--declared-duration-ms", "6000", env=env)
    assert (up["ok"], up["created"], up["status"], up["declared_format"]) == (True, True, "pending", "wav")
    royalty_json(sqlite_config, "media", "upload", B, str(cut), "--declared-duration-ms", "6000", env=env)

    unknown = royalty(sqlite_config, "media", "upload", "GBAYE2600099", str(master), env=env)
    assert unknown.returncode == 1 and "recording GBAYE2600099: not found" in unknown.stderr
    too_big = royalty(
        sqlite_config, "media", "upload", A, str(master), env={**env, "ROYALTY_MEDIA_MAX_UPLOAD_MIB": "0.1"}
    )
    assert too_big.returncode == 1 and "the limit is 0.1 MiB" in too_big.stderr

    ran = royalty_json(sqlite_config, "media", "worker", "--once", env=env)
    assert [(o["isrc"], o["status"]) for o in ran["handled"]] == [(A, "ready"), (B, "failed")]
    assert "file is truncated: decoded 2.0 s of a declared 6.0 s" in ran["handled"][1]["detail"]["failure"]["reason"]

    status = royalty_json(sqlite_config, "media", "status", A, env=env)
    assert status["status"] == "ready"
    renditions = status["current"]["renditions"]
    assert [r["format"] for r in renditions] == ["opus", "mp3", "aac"]
    for r in renditions:
        sha = r["sha256"]
        assert (tmp_path / "blobs" / sha[:2] / sha[2:4] / sha).stat().st_size == r["size_bytes"]

    shown = royalty_json(sqlite_config, "catalogue", "show", B, env=env)
    assert shown["audio"]["status"] == "failed"
    assert shown["audio"]["current"]["failure"]["code"] == "truncated"
