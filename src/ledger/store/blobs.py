"""A content-addressed blob store in a local folder: a blob's name is its SHA-256.

It sits with the other stores (not in `media`) because the API stores uploaded originals in
it and `api` may not import `media`; `media.blobstore` re-exports it.

Layout: `<root>/ab/cd/abcdef…` for content whose SHA-256 is `abcdef…`. Writes stream
through a hash into `<root>/.staging/`, which is on the same file system, and are then
published with one atomic rename: a reader sees a whole blob or none, and putting the
same content twice is a no-op. Blobs are made read-only once published.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path
from typing import BinaryIO

MIB = 1024 * 1024
_CHUNK = MIB
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class FileTooLarge(ValueError):
    """The content is over the store's size limit."""

    def __init__(self, size_bytes: int | None, limit_bytes: int) -> None:
        self.size_bytes = size_bytes
        self.limit_bytes = limit_bytes
        limit = format_mib(limit_bytes)
        if size_bytes is None:
            super().__init__(f"file is over the limit of {limit}")
        else:
            super().__init__(f"file is {size_bytes / MIB:.1f} MiB, the limit is {limit}")


class BlobNotFound(KeyError):
    """No blob has this SHA-256."""


@dataclass(frozen=True)
class Blob:
    """A published blob: its SHA-256 (hex) and its size."""

    sha256: str
    size_bytes: int


def format_mib(n_bytes: int) -> str:
    """`500 MiB` for a whole number of MiB, `0.5 MiB` otherwise."""
    whole, rest = divmod(n_bytes, MIB)
    return f"{whole} MiB" if rest == 0 else f"{n_bytes / MIB:.1f} MiB"


class BlobStore:
    """Content-addressed blobs under `root`, each at most `max_bytes` (None: no limit)."""

    def __init__(self, root: Path | str, max_bytes: int | None = None) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes
        self._staging = self.root / ".staging"
        self._staging.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        """Where the blob with this hash lives (whether or not it exists)."""
        if not _SHA256.match(sha256):
            raise ValueError(f"not a lower-case hex SHA-256: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def open(self, sha256: str) -> BinaryIO:
        """Open a published blob for reading."""
        try:
            return self.path(sha256).open("rb")
        except FileNotFoundError:
            raise BlobNotFound(sha256) from None

    def put_bytes(self, data: bytes) -> Blob:
        self._check_size(len(data))
        with self._staged_file() as (fh, staged):
            fh.write(data)
            _sync(fh)
            return self._publish(staged, hashlib.sha256(data).hexdigest(), len(data))

    def put_stream(self, stream: BinaryIO) -> Blob:
        """Copy a stream in, hashing as it goes; stops past the size limit."""
        digest = hashlib.sha256()
        size = 0
        with self._staged_file() as (fh, staged):
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if self.max_bytes is not None and size > self.max_bytes:
                    raise FileTooLarge(None, self.max_bytes)
                digest.update(chunk)
                fh.write(chunk)
            _sync(fh)
            return self._publish(staged, digest.hexdigest(), size)

    def put_file(self, source: Path | str, *, move: bool = False) -> Blob:
        """Store a file's content; with `move`, rename it in instead of copying.

        `move` is for files already on the store's file system (the renditions staged
        by `staging_dir`); elsewhere it falls back to a copy.
        """
        source = Path(source)
        self._check_size(source.stat().st_size)
        if move and _same_device(source.parent, self._staging):
            sha256, size = _hash_file(source)
            with source.open("rb+") as fh:
                _sync(fh)
            return self._publish(source, sha256, size)
        with source.open("rb") as fh:
            return self.put_stream(fh)

    @contextlib.contextmanager
    def staging_dir(self) -> Iterator[Path]:
        """A scratch folder on the store's file system, removed on exit."""
        folder = Path(tempfile.mkdtemp(dir=self._staging))
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def remove_stale_staging(self, older_than_s: float = 3600.0) -> int:
        """Delete staging leftovers of killed jobs; returns how many entries went.

        A SIGKILLed worker never runs its clean-up; what it staged was never published,
        so it is garbage. The age guard spares a job still running in another worker.
        """
        cutoff = time.time() - older_than_s
        removed = 0
        for entry in self._staging.iterdir():
            if entry.lstat().st_mtime < cutoff:
                if entry.is_dir():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)
                removed += 1
        return removed

    def _check_size(self, size: int) -> None:
        if self.max_bytes is not None and size > self.max_bytes:
            raise FileTooLarge(size, self.max_bytes)

    @contextlib.contextmanager
    def _staged_file(self) -> Iterator[tuple[BinaryIO, Path]]:
        fd, name = tempfile.mkstemp(dir=self._staging)
        staged = Path(name)
        try:
            with os.fdopen(fd, "wb") as fh:
                yield fh, staged
        finally:
            staged.unlink(missing_ok=True)

    def _publish(self, staged: Path, sha256: str, size: int) -> Blob:
        final = self.path(sha256)
        if final.is_file():
            staged.unlink(missing_ok=True)  # same content already published
            return Blob(sha256, size)
        final.parent.mkdir(parents=True, exist_ok=True)
        staged.chmod(0o444)
        os.replace(staged, final)
        return Blob(sha256, size)


def _sync(fh: BinaryIO) -> None:
    """The bytes reach the disk before the name does: a crash leaves no half blob."""
    fh.flush()
    os.fsync(fh.fileno())


def _hash_file(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _same_device(a: Path, b: Path) -> bool:
    return a.stat().st_dev == b.stat().st_dev


# The same variables `media.MediaConfig` reads, so the API and the worker agree on the store.
BLOB_DIR_ENV = "ROYALTY_MEDIA_BLOB_DIR"
MAX_UPLOAD_ENV = "ROYALTY_MEDIA_MAX_UPLOAD_MIB"
DEFAULT_BLOB_DIR = Path("var/blobs")
DEFAULT_MAX_UPLOAD_BYTES = 500 * MIB


def blob_store_from_env(environ: Mapping[str, str] | None = None) -> BlobStore:
    """The uploads' blob store: folder and size limit from the environment, else the defaults."""
    env = os.environ if environ is None else environ
    folder = (env.get(BLOB_DIR_ENV) or "").strip()
    limit = (env.get(MAX_UPLOAD_ENV) or "").strip()
    try:
        max_bytes = (
            int((Decimal(limit) * MIB).to_integral_value(ROUND_HALF_EVEN)) if limit else DEFAULT_MAX_UPLOAD_BYTES
        )
    except InvalidOperation:
        raise ValueError(f"{MAX_UPLOAD_ENV}: not a number of MiB: {limit!r}") from None
    return BlobStore(Path(folder) if folder else DEFAULT_BLOB_DIR, max_bytes=max_bytes)
