"""The digest of one stored event, the unit of the hash chain (ledger.audit).

SHA-256(position as 8 bytes big-endian ‖ originator id as UUID text ‖ version as 8 bytes
big-endian ‖ topic as UTF-8 ‖ state). Recorded beside every event when it is written
(audit_event_digests: by the recorder on SQLite, by a trigger on PostgreSQL — migration 0012
computes the same bytes in SQL) and recomputed by `royalty audit verify`.
"""

from __future__ import annotations

import hashlib


def event_digest_of(position: int, originator_id: str, version: int, topic: str, state: bytes) -> bytes:
    h = hashlib.sha256()
    h.update(position.to_bytes(8, "big", signed=True))
    h.update(originator_id.encode())
    h.update(version.to_bytes(8, "big", signed=True))
    h.update(topic.encode())
    h.update(state)
    return h.digest()
