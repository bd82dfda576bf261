"""Deterministic aggregate ids: uuid5 of a natural key, so a re-delivery finds the same aggregate."""

from __future__ import annotations

from functools import lru_cache
from uuid import UUID, uuid5

# A fixed namespace for this product; changing it would orphan every stored aggregate.
NAMESPACE = UUID("6f1c9a52-3b8e-5d0a-9a57-2d8f4e1b7c30")
# A bulk import asks for the same ids many times (every credit names a party, every split its
# subject): uuid5 is a SHA-1 and a UUID construction each time, so the answers are memoised.
_CACHED = lru_cache(maxsize=1 << 16)


@_CACHED
def party_id(party_key: str) -> UUID:
    return uuid5(NAMESPACE, f"party:{party_key}")


@_CACHED
def work_id(work_key: str) -> UUID:
    return uuid5(NAMESPACE, f"work:{work_key}")


@_CACHED
def recording_id(isrc: str) -> UUID:
    return uuid5(NAMESPACE, f"recording:{isrc}")


@_CACHED
def release_id(upc: str) -> UUID:
    return uuid5(NAMESPACE, f"release:{upc}")


@_CACHED
def alias_id(kind: str, identifier: str) -> UUID:
    """Where another identifier of a release or recording points (see domain.alias)."""
    return uuid5(NAMESPACE, f"alias:{kind}:{identifier}")


@_CACHED
def split_agreement_id(right: str, subject_key: str) -> UUID:
    """One agreement per (right, subject): master of an ISRC, publishing of a work key."""
    return uuid5(NAMESPACE, f"split:{right}:{subject_key}")


def checkpoint_id(upto_position: int) -> UUID:
    return uuid5(NAMESPACE, f"audit-checkpoint:{upto_position}")
