"""One upload in, one outcome out: `Transcoded` (renditions, loudness, fingerprint) or `Failed`.

Two ffmpeg processes per upload, each a single decode: the strict validation decode,
which also measures loudness, and the rendition pass, which encodes every rung of the
ladder and the fingerprint. The outcomes are plain frozen dataclasses of ints and
strings, shaped for the `AudioTranscoded` / `TranscodeFailed` events.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from media.blobstore import BlobStore
from media.config import MediaConfig
from media.ffmpeg import FfmpegFailed, FfmpegTimeout, first_error, timeout_for
from media.fingerprint import ALGORITHM
from media.loudness import Loudness, gain_toward
from media.renditions import Rendition, RenditionFailed, encode_renditions
from media.sniff import normalise_format_name
from media.validate import FailureCode, Rejection, validate_upload


@dataclass(frozen=True)
class Transcoded:
    """A valid upload, its measurements, and its published renditions."""

    detected_format: str  # from the content: "wav", "flac", "aiff", "mp3", "ogg"
    declared_format_matched: bool  # content wins; a mismatch is worth showing, not refusing
    duration_ms: int  # decoded, exact to the sample
    sample_rate_hz: int
    loudness: Loudness
    renditions: tuple[Rendition, ...]
    fingerprint: str  # base64 of the raw Chromaprint frames (see media.fingerprint)
    fingerprint_algorithm: int = ALGORITHM


@dataclass(frozen=True)
class Failed:
    """Why an upload gave no renditions, in words the uploader can act on."""

    code: FailureCode
    reason: str
    retryable: bool = False  # True only when trying again could succeed (a timeout)


def blob_store(config: MediaConfig) -> BlobStore:
    """The blob store the configuration names, with its upload size limit."""
    return BlobStore(config.blob_dir, max_bytes=config.max_upload_bytes)


def process_upload(
    path: Path | str,
    declared_format: str | None,
    declared_duration_ms: int | None,
    config: MediaConfig,
    store: BlobStore | None = None,
) -> Transcoded | Failed:
    """Validate, measure, encode the ladder, fingerprint, publish; or say why not."""
    path = Path(path)
    valid = validate_upload(path, declared_duration_ms, config)
    if isinstance(valid, Rejection):
        return Failed(valid.code, valid.reason, retryable=valid.code is FailureCode.TIMEOUT)
    loudness = gain_toward(valid.loudness, config.target_lufs_tenths, config.true_peak_ceiling_tenths)
    timeout_s = timeout_for(valid.duration_ms / 1000, config.timeout_base_s, config.timeout_per_audio_second)
    try:
        encoded = encode_renditions(
            path,
            valid.format,
            valid.sample_rate_hz,
            loudness.gain_filter,
            config.ladder,
            store or blob_store(config),
            timeout_s,
        )
    except FfmpegTimeout as timeout:
        reason = f"transcoding took longer than {timeout.timeout_s:.1f} s"
        return Failed(FailureCode.TIMEOUT, reason, retryable=True)
    except FfmpegFailed as error:
        return Failed(FailureCode.TRANSCODE_ERROR, f"transcoding failed: {first_error(error.stderr)}")
    except RenditionFailed as error:
        return Failed(FailureCode.TRANSCODE_ERROR, f"transcoding failed: {error}")
    return Transcoded(
        detected_format=valid.format.value,
        declared_format_matched=normalise_format_name(declared_format or "") is valid.format,
        duration_ms=valid.duration_ms,
        sample_rate_hz=valid.sample_rate_hz,
        loudness=loudness,
        renditions=encoded.renditions,
        fingerprint=encoded.fingerprint.to_base64(),
    )
