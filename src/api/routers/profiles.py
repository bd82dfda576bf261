"""A party's profile: biography, links and press images — read, changed by the party (or an admin),
images uploaded to the blob store and served from this host only."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Path, UploadFile
from fastapi.responses import FileResponse

from api.conflicts import ConflictRetryRoute
from api.deps import LedgerDep, PrincipalDep, scoped_party
from api.errors import PayloadTooLarge
from api.positions import capture_writes
from api.schemas.content import ProfilePublic, ProfileUpdate, ProfileWritten
from ledger.application import NotFound
from ledger.profile_images import profile_image, upload_profile_image
from ledger.store.blobs import FileTooLarge, blob_store_from_env

router = APIRouter(prefix="/v1/parties", tags=["parties"], route_class=ConflictRetryRoute)

ReadableParty = Annotated[
    str, Depends(scoped_party("admin", "distributor", "accountant", "auditor", "dispute_handler"))
]
EditableParty = Annotated[str, Depends(scoped_party("admin"))]
Sha256 = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="The image's SHA-256 (lower-case hex)")]
IMAGE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, max-age=3600",
}


@router.get("/{party_key}/profile", response_model=ProfilePublic)
def get_profile(party_key: ReadableParty, app: LedgerDep) -> ProfilePublic:
    """A party's biography, links and press images (each served by this server)."""
    return ProfilePublic.of(app.get_party(party_key))


@router.put("/{party_key}/profile", response_model=ProfileWritten)
def put_profile(
    party_key: EditableParty, body: ProfileUpdate, app: LedgerDep, principal: PrincipalDep
) -> ProfileWritten:
    """Change the biography and/or the links (http and https only); `ProfileUpdated` with the
    caller as actor. A party key changes its own parties' profiles only."""
    with capture_writes() as written:
        links = None if body.links is None else [link.model_dump() for link in body.links]
        party, changed = app.update_profile(party_key, principal.actor, biography=body.biography, links=links)
    return ProfileWritten(position=written.position(app), changed=changed, profile=ProfilePublic.of(party))


@router.post(
    "/{party_key}/profile/images",
    response_model=ProfileWritten,
    status_code=201,
    responses={413: {"description": "The image is over the size limit (5 MiB)"}},
)
def upload_image(
    party_key: EditableParty,
    app: LedgerDep,
    principal: PrincipalDep,
    file: Annotated[
        UploadFile, File(description="A press image: PNG, JPEG, GIF or WebP (read from its bytes), ≤ 5 MiB.")
    ],
    caption: Annotated[str, Form(max_length=500)] = "",
) -> ProfileWritten:
    """Add a press image: its type is read from its bytes, never from its name or header."""
    try:
        with capture_writes() as written:
            party, _sha, changed = upload_profile_image(
                app, blob_store_from_env(), party_key, file.file, caption, principal.actor
            )
    except FileTooLarge as exc:
        raise PayloadTooLarge("the image", exc.limit_bytes) from None
    return ProfileWritten(position=written.position(app), changed=changed, profile=ProfilePublic.of(party))


@router.delete("/{party_key}/profile/images/{sha256}", response_model=ProfileWritten)
def remove_image(party_key: EditableParty, sha256: Sha256, app: LedgerDep, principal: PrincipalDep) -> ProfileWritten:
    """Take an image off the profile (the bytes stay in the blob store, as every upload does)."""
    with capture_writes() as written:
        party, changed = app.remove_profile_image(party_key, sha256, principal.actor)
    return ProfileWritten(position=written.position(app), changed=changed, profile=ProfilePublic.of(party))


@router.get(
    "/{party_key}/profile/images/{sha256}",
    response_class=FileResponse,
    responses={200: {"content": {"image/png": {}, "image/jpeg": {}, "image/gif": {}, "image/webp": {}}}},
)
def get_image(party_key: ReadableParty, sha256: Sha256, app: LedgerDep) -> FileResponse:
    """An image of the profile, with the type read from its bytes when it was uploaded."""
    return image_response(app, party_key, sha256)


def image_response(app: LedgerDep, party_key: str, sha256: str) -> FileResponse:
    image = profile_image(app.get_party(party_key), sha256) if re.fullmatch(r"[0-9a-f]{64}", sha256) else None
    if image is None:
        raise NotFound(f"image {sha256[:12]} of {party_key}: not found")
    path = blob_store_from_env().path(sha256)
    if not path.is_file():
        raise NotFound(f"image {sha256[:12]}: not in this server's blob store")
    return FileResponse(path, media_type=str(image["content_type"]), headers=IMAGE_HEADERS)
