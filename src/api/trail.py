"""The ownership trail of a recording or work: every recorded change to who is paid, in log order.

Read straight from the log (one pass over the relevant event types, filtered by aggregate),
so it needs no projection and is exact at any moment: versions, acceptances, activations,
disputes and their resolutions, work links, takedowns and reinstatements — each with its
position, recorded time and actor.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from ledger.application import RoyaltyLedger
from ledger.domain.dispute import Dispute
from ledger.domain.ids import recording_id, release_id, split_agreement_id, work_id
from ledger.domain.recording import Recording
from ledger.domain.release import Release
from ledger.domain.split_agreement import SplitAgreement
from ledger.domain.work import Work

_SPLIT = (
    SplitAgreement.SplitVersionProposed,  # type: ignore[attr-defined]
    SplitAgreement.SplitVersionAccepted,  # type: ignore[attr-defined]
    SplitAgreement.SplitVersionActivated,  # type: ignore[attr-defined]
)
_DISPUTE = (Dispute.Opened, Dispute.Resolved)  # type: ignore[attr-defined]
_RECORDING = (
    Recording.Registered,  # type: ignore[attr-defined]
    Recording.DetailsUpdated,  # type: ignore[attr-defined]
    Recording.TakenDown,  # type: ignore[attr-defined]
    Recording.Reinstated,  # type: ignore[attr-defined]
)
_RELEASE = (Release.TakenDown, Release.Reinstated)  # type: ignore[attr-defined]
_WORK = (Work.Registered, Work.DetailsUpdated)  # type: ignore[attr-defined]
_HIDDEN = {"originator_id", "originator_version", "timestamp", "actor", "originator_topic"}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _details(event: Any) -> dict[str, Any]:
    return {k: _plain(v) for k, v in vars(event).items() if k not in _HIDDEN}


def ownership_trail(app: RoyaltyLedger, right: str, subject_key: str) -> list[dict[str, Any]]:
    """right "master" → the recording `subject_key` (ISRC); "publishing" → the work `subject_key`."""
    split = split_agreement_id(right, subject_key)
    own = recording_id(subject_key) if right == "master" else work_id(subject_key)
    owners: dict[UUID, str] = {split: f"{right} split", own: "recording" if right == "master" else "work"}
    releases: dict[UUID, str | None] = {}
    topics = app.topics_of(
        *_SPLIT, *_DISPUTE, *(_RECORDING if right == "master" else _WORK), *(_RELEASE if right == "master" else ())
    )
    entries = []
    for n in app.read_log(topics=topics):
        origin = UUID(str(n.originator_id))
        if origin not in owners and not _claims(app, n, origin, right, subject_key, owners, releases):
            continue
        event = app.decode(n)
        entries.append(
            {
                "position": n.id,
                "recorded_at": event.timestamp,
                "actor": getattr(event, "actor", ""),
                "subject": owners[origin],
                "event": type(event).__name__,
                "details": _details(event),
            }
        )
    return entries


def _claims(
    app: RoyaltyLedger,
    n: Any,
    origin: UUID,
    right: str,
    subject_key: str,
    owners: dict[UUID, str],
    releases: dict[UUID, str | None],
) -> bool:
    """Whether an event of another aggregate belongs to the trail (a dispute, a release)."""
    if n.topic.endswith("Dispute.Opened"):
        event = app.decode(n)
        if (event.right, event.subject_key) == (right, subject_key):
            owners[origin] = f"dispute {origin}"
            return True
        return False
    if n.topic.startswith(Release.__module__) and right == "master":
        if origin not in releases:
            rel: Any = app.repository.get(origin)
            releases[origin] = rel.upc if subject_key in rel.track_isrcs else None
        upc = releases[origin]
        if upc is not None and origin == release_id(upc):
            owners[origin] = f"release {upc}"
            return True
    return False
