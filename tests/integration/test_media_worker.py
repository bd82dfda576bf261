"""The media worker on both stores: upload, follow the log, record exactly one outcome per upload."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ledger.application import NotFound, RoyaltyLedger
from ledger.domain.audio import AudioAsset
from ledger.domain.party import DomainError
from ledger.store.config import StoreConfig
from ledger.store.media_tables import MediaTables
from media.blobstore import FileTooLarge
from media.config import MediaConfig
from media.upload import upload_audio
from media.worker import MediaWorker
from projections.catalogue_audio import recording_audio
from projections.db import ViewDB
from projections.projector import Projector
from tests.media_helpers import ISRCS, mp3_of, music_wav, png, seed_recordings, tone_wav, truncated

A, B, C, D = ISRCS
OUTCOMES = (AudioAsset.AudioTranscoded, AudioAsset.TranscodeFailed)  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def audio(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("audio")
    wav = music_wav(folder / "master.wav")
    return {
        "wav": wav,
        "mp3": mp3_of(wav, folder / "master.mp3"),
        "tone": tone_wav(folder / "tone.wav"),
        "other": music_wav(folder / "other.wav", a=520, b=1400),
        "truncated": truncated(wav, folder / "cut.wav"),
        "png": png(folder / "cover.wav"),
    }


@pytest.fixture
def media_config(tmp_path: Path) -> MediaConfig:
    return MediaConfig(blob_dir=tmp_path / "blobs")


@pytest.fixture
def app(ledger_app: RoyaltyLedger) -> Iterator[RoyaltyLedger]:
    seed_recordings(ledger_app)
    yield ledger_app


def outcome_counts(app: RoyaltyLedger) -> Counter[Any]:
    return Counter(n.originator_id for n in app.read_log(topics=app.topics_of(*OUTCOMES)))


def upload(app: RoyaltyLedger, isrc: str, path: Path, config: MediaConfig, **kw: Any) -> str:
    return upload_audio(app, isrc, path, "test", config=config, **kw).sha256


def test_an_upload_becomes_renditions_in_the_blob_store_and_one_audio_transcoded_event(
    app: RoyaltyLedger, audio: dict[str, Path], media_config: MediaConfig
) -> None:
    sha = upload(app, A, audio["wav"], media_config, declared_duration_ms=6_000)
    assert app.audio_of(A)["status"] == "pending"
    (outcome,) = MediaWorker(app, media_config).run_once()
    assert (outcome.isrc, outcome.sha256, outcome.status) == (A, sha, "ready")
    asset = app.find_audio_asset(A, sha)
    assert asset is not None and asset.status == "ready" and asset.detected_format == "wav"
    assert [r["format"] for r in asset.renditions] == ["opus", "mp3", "aac"]
    for rendition in asset.renditions:
        blob = media_config.blob_dir / rendition["sha256"][:2] / rendition["sha256"][2:4] / rendition["sha256"]
        assert hashlib.sha256(blob.read_bytes()).hexdigest() == rendition["sha256"]
        assert blob.stat().st_size == rendition["size_bytes"]
    assert all(isinstance(v, int | bool) or v is None for v in asset.loudness.values())
    assert asset.loudness["target_lufs_tenths"] == -140
    assert outcome_counts(app) == Counter({asset.id: 1})
    assert MediaTables(app).worker_position("media", 0) == outcome.position
    assert MediaWorker(app, media_config).run_once() == []  # nothing left to do


@pytest.mark.parametrize(
    ("name", "code", "words"),
    [
        ("truncated", "truncated", "file is truncated: decoded 2.0 s of a declared 6.0 s"),
        ("png", "not_audio", "not audio: PNG image"),
    ],
)
def test_a_bad_upload_becomes_transcode_failed_with_a_reason_a_person_can_act_on(
    app: RoyaltyLedger,
    audio: dict[str, Path],
    media_config: MediaConfig,
    name: str,
    code: str,
    words: str,
) -> None:
    sha = upload(app, B, audio[name], media_config, declared_duration_ms=6_000)
    (outcome,) = MediaWorker(app, media_config).run_once()
    assert outcome.status == "failed"
    asset = app.find_audio_asset(B, sha)
    assert asset is not None and asset.failure is not None
    assert asset.failure["code"] == code and words in asset.failure["reason"]
    assert asset.renditions == [] and app.audio_of(B)["status"] == "failed"


def test_an_mp3_made_from_another_recordings_master_is_flagged_and_an_unrelated_one_is_not(
    app: RoyaltyLedger, audio: dict[str, Path], media_config: MediaConfig
) -> None:
    wav_sha = upload(app, A, audio["wav"], media_config)
    upload(app, B, audio["mp3"], media_config)
    upload(app, C, audio["other"], media_config)
    upload(app, D, audio["tone"], media_config)
    outcomes = {o.isrc: o for o in MediaWorker(app, media_config).run_once()}
    assert {o.status for o in outcomes.values()} == {"ready"}
    assert app.audio_of(A)["status"] == "ready"  # the first upload is the original
    flagged = app.audio_of(B)
    assert flagged["status"] == "duplicate_suspected"
    ((dup),) = flagged["current"]["duplicates"]
    assert (dup["isrc"], dup["sha256"]) == (A, wav_sha) and dup["score_bp"] >= 8_500
    assert app.audio_of(C)["current"]["duplicates"] == []
    assert app.audio_of(D)["current"]["duplicates"] == []
    # The catalogue read model shows the same statuses.
    db = ViewDB(app.config)
    try:
        Projector(app, db, models=["catalogue"]).catch_up()
        view = dict(db.execute("SELECT isrc, audio_status FROM cat_recordings"))
        assert view == {A: "ready", B: "duplicate_suspected", C: "ready", D: "ready"}
        assert recording_audio(db, B)["current"]["duplicates"][0]["isrc"] == A
    finally:
        db.close()


class Crash(BaseException):
    """Stands for the process dying between publishing renditions and committing the outcome."""


def test_a_worker_dying_before_its_commit_is_redone_once_and_a_rerun_records_nothing_twice(
    app: RoyaltyLedger,
    audio: dict[str, Path],
    media_config: MediaConfig,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    upload(app, A, audio["wav"], media_config)
    upload(app, B, audio["truncated"], media_config, declared_duration_ms=6_000)
    real = RoyaltyLedger.record_audio_outcome

    def crash(*args: Any, **kwargs: Any) -> None:
        raise Crash

    monkeypatch.setattr(RoyaltyLedger, "record_audio_outcome", crash)
    with pytest.raises(Crash):
        MediaWorker(app, media_config).run_once()
    assert outcome_counts(app) == Counter() and MediaTables(app).worker_position("media", 0) == 0
    monkeypatch.setattr(RoyaltyLedger, "record_audio_outcome", real)
    restarted = MediaWorker(app, media_config).run_once()
    assert [o.status for o in restarted] == ["ready", "failed"]
    # A second worker from position 0 (or a lost position) finds every outcome recorded.
    again = MediaWorker(app, media_config, name="second").run_once()
    assert [o.status for o in again] == ["skipped", "skipped"]
    assert sorted(outcome_counts(app).values()) == [1, 1]


def test_a_stale_copy_of_a_pending_upload_cannot_record_a_second_outcome(
    app: RoyaltyLedger, audio: dict[str, Path], media_config: MediaConfig
) -> None:
    sha = upload(app, A, audio["wav"], media_config)
    asset = app.find_audio_asset(A, sha)
    assert asset is not None
    MediaWorker(app, media_config).run_once()
    with pytest.raises(DomainError, match="already has its outcome"):
        app.record_audio_outcome(
            asset, worker="media", position=99, failed={"code": "x", "reason": "y", "retryable": False}
        )
    assert outcome_counts(app) == Counter({asset.id: 1})
    assert MediaTables(app).worker_position("media", 0) < 99  # rolled back with the event


def test_uploads_are_refused_past_the_size_limit_and_for_unknown_recordings(
    app: RoyaltyLedger, audio: dict[str, Path], tmp_path: Path
) -> None:
    small = MediaConfig(blob_dir=tmp_path / "blobs", max_upload_bytes=100_000)
    with pytest.raises(FileTooLarge, match=r"file is 1\.0 MiB, the limit is 0\.1 MiB"):
        upload(app, A, audio["wav"], small)
    with pytest.raises(FileTooLarge), audio["wav"].open("rb") as stream:  # streamed, as the API does
        upload_audio(app, A, stream, "test", config=small)
    with pytest.raises(NotFound, match="recording GBAYE2600099: not found"):
        upload(app, "GBAYE2600099", audio["wav"], small)
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(DomainError, match="empty"):
        upload(app, A, empty, small)
    assert [p for p in (tmp_path / "blobs").rglob("*") if p.is_file()] == []
    assert app.audio_of(A)["uploads"] == []


def test_the_same_content_uploaded_again_for_a_recording_records_nothing(
    app: RoyaltyLedger, audio: dict[str, Path], media_config: MediaConfig
) -> None:
    first = upload_audio(app, A, audio["wav"], "test", config=media_config)
    head = app.head_position()
    again = upload_audio(app, A, audio["wav"], "test", config=media_config)
    assert (first.created, again.created, again.sha256) == (True, False, first.sha256)
    assert app.head_position() == head


@pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX signals: the test SIGKILLs the worker process")
def test_sigkill_mid_transcode_then_restart_gives_exactly_one_outcome_per_upload(
    app: RoyaltyLedger, store_config: StoreConfig, audio: dict[str, Path], tmp_path: Path
) -> None:
    config = MediaConfig(blob_dir=tmp_path / "blobs")
    long = music_wav(tmp_path / "long.wav", seconds=20)  # about a second of decoding and encoding
    upload(app, A, long, config)
    upload(app, B, audio["tone"], config)
    env = {
        **os.environ,
        "ROYALTY_DATABASE_URL": store_config.describe(),
        "ROYALTY_MEDIA_BLOB_DIR": str(config.blob_dir),
    }
    command = [sys.executable, "-m", "media.worker"]  # what `royalty media worker` runs
    worker = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    assert worker.stderr is not None
    for line in worker.stderr:
        if "transcoding" in line:
            break
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=30)
    assert outcome_counts(app) == Counter()  # killed before its first commit
    done = subprocess.run([*command, "--once"], env=env, capture_output=True, text=True, timeout=120, check=True)
    assert "handled 2 uploads" in done.stdout
    assert sorted(outcome_counts(app).values()) == [1, 1]
    for blob in (p for p in config.blob_dir.rglob("*") if p.is_file() and ".staging" not in p.parts):
        assert hashlib.sha256(blob.read_bytes()).hexdigest() == blob.name  # nothing half-published


def test_a_following_worker_handles_an_upload_recorded_after_it_started(
    app: RoyaltyLedger, audio: dict[str, Path], media_config: MediaConfig
) -> None:
    stop = threading.Event()
    worker = MediaWorker(app, media_config)
    thread = threading.Thread(target=worker.follow, args=(stop, 0.2), daemon=True)
    thread.start()
    try:
        time.sleep(0.3)  # listening (PostgreSQL) or polling (SQLite) by now
        upload(app, A, audio["tone"], media_config)
        deadline = time.monotonic() + 30
        while app.audio_of(A)["status"] == "pending" and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert app.audio_of(A)["status"] == "ready"
    assert sum(outcome_counts(app).values()) == 1
