"""A recording's audio: upload a master (multipart), read its status, renditions and loudness."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile

from api.auth import Forbidden, Principal
from api.conflicts import ConflictRetryRoute
from api.deps import LedgerDep, PrincipalDep, require
from api.errors import PayloadTooLarge
from api.positions import capture_writes
from api.schemas.media import AudioUploadPublic, AudioUploadWritten, RecordingAudioPublic
from api.scope import VisibleRecording, controls_recording
from ledger.audio_upload import upload_audio
from ledger.store.blobs import FileTooLarge, blob_store_from_env

router = APIRouter(prefix="/v1/recordings", tags=["media"], route_class=ConflictRetryRoute)

Uploader = Annotated[Principal, Depends(require("admin", "distributor", "party"))]


@router.post(
    "/{isrc}/audio",
    response_model=AudioUploadWritten,
    status_code=202,
    responses={413: {"description": "The file is over the upload size limit"}},
)
def upload_recording_audio(
    rec: VisibleRecording,
    app: LedgerDep,
    principal: Uploader,
    file: Annotated[UploadFile, File(description="The master: WAV, FLAC, AIFF or MP3.")],
    declared_duration_ms: Annotated[int | None, Form(gt=0, le=24 * 3_600_000)] = None,
    declared_format: Annotated[str | None, Form(max_length=20)] = None,
) -> AudioUploadWritten:
    """Upload a recording's master audio. The original is stored by its SHA-256 and
    `AudioUploaded` recorded; the media worker then validates and transcodes it. Uploading
    the same content again changes nothing. A party key must hold the recording's master."""
    if not controls_recording(app, principal, rec, app.clock()):
        raise Forbidden(f"only a current master holder may upload audio for {rec.isrc}")
    try:
        with capture_writes() as written:
            done = upload_audio(
                app,
                blob_store_from_env(),
                rec.isrc,
                file.file,
                principal.actor,
                original_name=file.filename or "upload",
                declared_format=declared_format,
                declared_duration_ms=declared_duration_ms,
            )
    except FileTooLarge as exc:
        raise PayloadTooLarge("the audio file", exc.limit_bytes) from None
    asset = app.find_audio_asset(done.isrc, done.sha256)
    assert asset is not None
    return AudioUploadWritten(
        position=written.position(app),
        changed=done.created,
        isrc=done.isrc,
        upload=AudioUploadPublic.model_validate(asset.summary()),
    )


@router.get("/{isrc}/audio", response_model=RecordingAudioPublic)
def get_recording_audio(rec: VisibleRecording, app: LedgerDep, principal: PrincipalDep) -> RecordingAudioPublic:
    """The recording's audio status (its latest upload's: pending, ready, failed or
    duplicate_suspected) with every upload's renditions, loudness, failure or duplicates."""
    return RecordingAudioPublic.model_validate({"isrc": rec.isrc, **app.audio_of(rec.isrc)})
