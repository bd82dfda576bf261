"""POST /v1/recordings/{isrc}/audio and GET …/audio through HTTP: roles, scope, limits, the worker's result."""

from __future__ import annotations

from pathlib import Path

import pytest
from httpx import Response

from media.config import MediaConfig
from media.worker import MediaWorker
from tests.e2e.api_fixtures import ISRC_A, Api, seed_catalogue
from tests.media_helpers import music_wav


@pytest.fixture
def master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return music_wav(tmp_path_factory.mktemp("audio") / "master.wav")


@pytest.fixture
def blobs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ROYALTY_MEDIA_BLOB_DIR", str(tmp_path / "blobs"))
    return tmp_path / "blobs"


def post_audio(api: Api, isrc: str, path: Path, headers: dict[str, str]) -> Response:
    with path.open("rb") as fh:
        return api.client.post(
            f"/v1/recordings/{isrc}/audio",
            headers=headers,
            files={"file": (path.name, fh, "audio/wav")},
            data={"declared_duration_ms": "6000"},
        )


def test_a_distributor_uploads_a_master_and_reads_its_renditions_after_the_worker(
    sqlite_api: Api, master: Path, blobs: Path
) -> None:
    admin = sqlite_api.key("admin")
    seed_catalogue(sqlite_api, admin)
    distributor = sqlite_api.key("distributor")
    first = post_audio(sqlite_api, ISRC_A, master, distributor)
    assert first.status_code == 202, first.text
    body = first.json()
    assert (body["changed"], body["upload"]["status"], body["upload"]["declared_format"]) == (True, "pending", "wav")
    again = post_audio(sqlite_api, ISRC_A, master, distributor).json()
    assert again["changed"] is False and again["upload"]["sha256"] == body["upload"]["sha256"]

    MediaWorker(sqlite_api.ledger, MediaConfig(blob_dir=blobs)).run_once()
    audio = sqlite_api.client.get(f"/v1/recordings/{ISRC_A}/audio", headers=admin).json()
    assert audio["status"] == "ready"
    assert [r["format"] for r in audio["current"]["renditions"]] == ["opus", "mp3", "aac"]
    assert isinstance(audio["current"]["loudness"]["integrated_lufs_tenths"], int)


def test_only_master_holders_among_party_keys_upload_and_outsiders_do_not_learn_it_exists(
    sqlite_api: Api, master: Path, blobs: Path
) -> None:
    seed_catalogue(sqlite_api, sqlite_api.key("admin"))
    assert post_audio(sqlite_api, ISRC_A, master, sqlite_api.key("party", "alice")).status_code == 202
    outsider = post_audio(sqlite_api, ISRC_A, master, sqlite_api.key("party", "carol"))
    assert outsider.status_code == 404
    platform = post_audio(sqlite_api, ISRC_A, master, sqlite_api.key("platform"))
    assert platform.status_code == 403


def test_an_oversize_upload_is_413_and_an_unknown_recording_404(
    sqlite_api: Api, master: Path, blobs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = sqlite_api.key("admin")
    seed_catalogue(sqlite_api, admin)
    monkeypatch.setenv("ROYALTY_MEDIA_MAX_UPLOAD_MIB", "0.1")
    big = post_audio(sqlite_api, ISRC_A, master, admin)
    assert big.status_code == 413
    assert big.json()["detail"] == "the audio file is over the limit of 104,858 bytes"
    unknown = post_audio(sqlite_api, "GBAYE2600099", master, admin)
    assert unknown.status_code == 404
    assert [p for p in blobs.rglob("*") if p.is_file()] == []
