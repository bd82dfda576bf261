"""Press images for a party's profile: read at most the size limit, check the type from the bytes,
store them in the blob store by SHA-256, record the profile change. Shared by
`POST /v1/parties/{party}/profile/images` and the dashboard's profile page.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, BinaryIO

from ledger.domain.party import DomainError, Party
from ledger.domain.profile import IMAGE_TYPES, MAX_IMAGE_BYTES, sniff_image
from ledger.store.blobs import BlobStore, FileTooLarge

if TYPE_CHECKING:
    from ledger.application import RoyaltyLedger


def read_image(stream: BinaryIO, limit: int = MAX_IMAGE_BYTES) -> tuple[bytes, str]:
    """The bytes (at most `limit`) and their sniffed type; FileTooLarge or DomainError otherwise."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise FileTooLarge(None, limit)
    if not data:
        raise DomainError("the image is empty")
    kind = sniff_image(data[:16])
    if kind is None:
        raise DomainError(f"not an image this profile takes: expected {', '.join(t[6:] for t in IMAGE_TYPES)}")
    return data, kind


def upload_profile_image(
    app: RoyaltyLedger, store: BlobStore, party_key: str, stream: BinaryIO, caption: str, actor: str
) -> tuple[Party, str, bool]:
    """Store the image and add it to the profile; returns (party, sha256, changed)."""
    app.get_party(party_key)  # NotFound before a byte is stored
    data, kind = read_image(stream)
    blob = store.put_stream(io.BytesIO(data))
    party, changed = app.add_profile_image(party_key, blob.sha256, kind, blob.size_bytes, caption.strip(), actor)
    return party, blob.sha256, changed


def profile_image(party: Party, sha256: str) -> dict[str, object] | None:
    """The profile's image entry with this hash, or None (an image is served only while listed)."""
    return next((i for i in party.profile["images"] if i["sha256"] == sha256), None)
