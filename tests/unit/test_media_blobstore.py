"""The content-addressed blob store: named by SHA-256, published whole, refused past the limit."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest

from media.blobstore import MIB, BlobNotFound, BlobStore, FileTooLarge


def staged_files(store: BlobStore) -> list[Path]:
    return [p for p in (store.root / ".staging").rglob("*")]


def test_a_blob_lives_under_its_hash_split_in_two_levels(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    blob = store.put_bytes(b"hello")
    digest = hashlib.sha256(b"hello").hexdigest()
    assert (blob.sha256, blob.size_bytes) == (digest, 5)
    assert store.path(digest) == tmp_path / digest[:2] / digest[2:4] / digest
    assert store.exists(digest)
    with store.open(digest) as fh:
        assert fh.read() == b"hello"
    assert staged_files(store) == []


def test_putting_the_same_content_twice_is_a_no_op(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    first = store.put_bytes(b"same")
    second = store.put_stream(io.BytesIO(b"same"))
    assert first == second
    assert len([p for p in tmp_path.rglob("*") if p.is_file()]) == 1


def test_a_published_blob_is_read_only(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    blob = store.put_bytes(b"immutable")
    assert store.path(blob.sha256).stat().st_mode & 0o222 == 0


def test_put_file_copies_and_move_renames(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "store")
    source = tmp_path / "upload.wav"
    source.write_bytes(b"x" * 3 * MIB)
    copied = store.put_file(source)
    assert source.exists()
    with store.staging_dir() as staging:
        staged = staging / "rendition.mp3"
        staged.write_bytes(b"y" * 1000)
        moved = store.put_file(staged, move=True)
        assert not staged.exists()
    assert store.path(copied.sha256).read_bytes() == source.read_bytes()
    assert moved.sha256 == hashlib.sha256(b"y" * 1000).hexdigest()
    assert staged_files(store) == []


def test_a_file_over_the_limit_is_refused_with_its_size(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "store", max_bytes=2 * MIB)
    big = tmp_path / "big.wav"
    big.write_bytes(bytes(3 * MIB + MIB // 10))
    with pytest.raises(FileTooLarge, match=r"^file is 3.1 MiB, the limit is 2 MiB$"):
        store.put_file(big)
    with pytest.raises(FileTooLarge, match=r"^file is over the limit of 2 MiB$"):
        store.put_stream(io.BytesIO(bytes(2 * MIB + 1)))
    assert staged_files(store) == []
    assert [p for p in (tmp_path / "store").rglob("*") if p.is_file()] == []


def test_the_limit_message_reads_like_a_person_wrote_it() -> None:
    assert str(FileTooLarge(612 * MIB, 500 * MIB)) == "file is 612.0 MiB, the limit is 500 MiB"
    assert str(FileTooLarge(MIB, MIB // 2)) == "file is 1.0 MiB, the limit is 0.5 MiB"


def test_a_missing_blob_and_a_bad_hash_are_errors(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    with pytest.raises(BlobNotFound):
        store.open("0" * 64)
    with pytest.raises(ValueError, match="SHA-256"):
        store.path("../../etc/passwd")


def test_staging_left_by_a_killed_job_is_swept_but_a_running_job_is_spared(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    old = tmp_path / ".staging" / "killed-job"
    old.mkdir()
    (old / "half.mp3").write_bytes(b"half")
    os.utime(old, (0, 0))
    fresh = tmp_path / ".staging" / "running-job"
    fresh.mkdir()
    assert store.remove_stale_staging(older_than_s=3600) == 1
    assert not old.exists()
    assert fresh.exists()
