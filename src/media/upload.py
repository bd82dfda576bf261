"""Upload with the media configuration: the blob store it names, the declared format normalised."""

from __future__ import annotations

from pathlib import Path, PurePath
from typing import BinaryIO

from ledger.application import RoyaltyLedger
from ledger.audio_upload import Uploaded
from ledger.audio_upload import upload_audio as _upload
from media.config import MediaConfig
from media.pipeline import blob_store
from media.sniff import normalise_format_name

__all__ = ["Uploaded", "declared_format_of", "upload_audio"]


def declared_format_of(original_name: str, declared: str | None = None) -> str | None:
    """The format the uploader claims (or the file name suggests), in the allow-list's words."""
    named = normalise_format_name(declared) if declared else None
    if named is None:
        named = normalise_format_name(PurePath(original_name).suffix)
    return named.value if named else (declared or None)


def upload_audio(
    app: RoyaltyLedger,
    isrc: str,
    source: Path | BinaryIO,
    actor: str,
    *,
    original_name: str | None = None,
    declared_format: str | None = None,
    declared_duration_ms: int | None = None,
    config: MediaConfig | None = None,
) -> Uploaded:
    """`ledger.audio_upload.upload_audio` on the blob store `config` names (default: from env)."""
    config = config or MediaConfig.from_env()
    name = original_name or (source.name if isinstance(source, Path) else "upload")
    return _upload(
        app,
        blob_store(config),
        isrc,
        source,
        actor,
        original_name=name,
        declared_format=declared_format_of(name, declared_format),
        declared_duration_ms=declared_duration_ms,
    )
