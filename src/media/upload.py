"""Upload: check the recording exists, store the original by SHA-256, record AudioUploaded.

Used by `royalty media upload` and `POST /v1/recordings/{isrc}/audio`. The recording is checked
before a byte is stored; the size limit is enforced while the bytes stream in. The same content
uploaded again for the same recording records nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any, BinaryIO

from ledger.application import RoyaltyLedger
from ledger.domain.party import DomainError
from media.config import MediaConfig
from media.pipeline import blob_store
from media.sniff import normalise_format_name


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


def declared_format_of(original_name: str, declared: str | None = None) -> str | None:
    """The format the uploader claims (or the file name suggests); the content decides later."""
    named = normalise_format_name(declared) if declared else None
    if named is None:
        named = normalise_format_name(PurePath(original_name).suffix)
    return named.value if named else (declared or None)


def upload_audio(
    app: RoyaltyLedger, isrc: str, source: Path | BinaryIO, actor: str, *,
    original_name: str | None = None, declared_format: str | None = None,
    declared_duration_ms: int | None = None, config: MediaConfig | None = None,
) -> Uploaded:
    """Store `source` (a path or a binary stream) for recording `isrc` and record it.

    Raises NotFound / InvalidIdentifier (no such recording), FileTooLarge (over the limit),
    DomainError (an empty file).
    """
    config = config or MediaConfig.from_env()
    isrc = app.require_recording(isrc)
    if declared_duration_ms is not None and declared_duration_ms <= 0:
        raise DomainError(f"declared duration must be positive, got {declared_duration_ms} ms")
    name = original_name or (source.name if isinstance(source, Path) else "upload")
    store = blob_store(config)
    if isinstance(source, Path):
        if source.stat().st_size == 0:
            raise DomainError(f"{name}: the file is empty; upload the master audio file")
        blob = store.put_file(source)
    else:
        blob = store.put_stream(source)
    if blob.size_bytes == 0:
        raise DomainError(f"{name}: the file is empty; upload the master audio file")
    fmt = declared_format_of(name, declared_format)
    asset, created = app.record_audio_upload(
        isrc, blob.sha256, blob.size_bytes, name, fmt, declared_duration_ms, actor
    )
    return Uploaded(isrc, blob.sha256, blob.size_bytes, asset.original_name,
                    asset.declared_format, created, asset.status)
