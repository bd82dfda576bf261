"""Upload a recording's master: check the recording, store the bytes by SHA-256, record AudioUploaded.

Shared by `royalty media upload` (through `media.upload`) and `POST /v1/recordings/{isrc}/audio`.
The recording is checked before a byte is stored; the size limit is enforced while the bytes
stream in. The same content uploaded again for the same recording records nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, BinaryIO

from ledger.domain.party import DomainError
from ledger.store.blobs import BlobStore

if TYPE_CHECKING:
    from ledger.application import RoyaltyLedger


@dataclass(frozen=True)
class Uploaded:
    """What an upload did: the asset it names, and whether it recorded a new one."""

    isrc: str
    sha256: str
    size_bytes: int
    original_name: str
    declared_format: str | None
    created: bool
    status: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def claimed_format(original_name: str, declared: str | None) -> str | None:
    """What the uploader claims, else the file name's suffix; the worker trusts only the content."""
    text = (declared or PurePath(original_name).suffix.removeprefix(".")).strip().lower()
    return text[:20] or None


def upload_audio(
    app: RoyaltyLedger,
    store: BlobStore,
    isrc: str,
    source: Path | BinaryIO,
    actor: str,
    *,
    original_name: str | None = None,
    declared_format: str | None = None,
    declared_duration_ms: int | None = None,
) -> Uploaded:
    """Store `source` (a path or a binary stream) for recording `isrc` and record it.

    Raises NotFound / InvalidIdentifier (no such recording), FileTooLarge (over the store's
    limit), DomainError (an empty file, a non-positive declared duration).
    """
    isrc = app.require_recording(isrc)
    if declared_duration_ms is not None and declared_duration_ms <= 0:
        raise DomainError(f"declared duration must be positive, got {declared_duration_ms} ms")
    name = original_name or (source.name if isinstance(source, Path) else "upload")
    if isinstance(source, Path) and source.stat().st_size == 0:
        raise DomainError(f"{name}: the file is empty; upload the master audio file")
    blob = store.put_file(source) if isinstance(source, Path) else store.put_stream(source)
    if blob.size_bytes == 0:
        raise DomainError(f"{name}: the file is empty; upload the master audio file")
    asset, created = app.record_audio_upload(
        isrc,
        blob.sha256,
        blob.size_bytes,
        name,
        claimed_format(name, declared_format),
        declared_duration_ms,
        actor,
    )
    return Uploaded(
        isrc, blob.sha256, blob.size_bytes, asset.original_name, asset.declared_format, created, asset.status
    )
