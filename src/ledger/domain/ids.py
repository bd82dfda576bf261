"""Deterministic aggregate ids: uuid5 of a natural key, so a re-delivery finds the same aggregate."""

from __future__ import annotations

from uuid import UUID, uuid5

# A fixed namespace for this product; changing it would orphan every stored aggregate.
NAMESPACE = UUID("6f1c9a52-3b8e-5d0a-9a57-2d8f4e1b7c30")


def party_id(party_key: str) -> UUID:
    return uuid5(NAMESPACE, f"party:{party_key}")


def work_id(work_key: str) -> UUID:
    return uuid5(NAMESPACE, f"work:{work_key}")


def recording_id(isrc: str) -> UUID:
    return uuid5(NAMESPACE, f"recording:{isrc}")


def release_id(upc: str) -> UUID:
    return uuid5(NAMESPACE, f"release:{upc}")


def split_agreement_id(right: str, subject_key: str) -> UUID:
    """One agreement per (right, subject): master of an ISRC, publishing of a work key."""
    return uuid5(NAMESPACE, f"split:{right}:{subject_key}")


def checkpoint_id(upto_position: int) -> UUID:
    return uuid5(NAMESPACE, f"audit-checkpoint:{upto_position}")
