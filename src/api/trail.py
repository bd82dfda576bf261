"""The ownership trail of a recording or work: every recorded change to who is paid, in log order.

Read straight from the log (the events of the aggregates concerned, by id), so it needs no
projection and is exact at any moment: versions, acceptances, refusals, activations, disputes
(opened open or pending, admitted, refused) and their resolutions, work links, takedowns and
reinstatements — each with its position, recorded time and actor.
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
from ledger.usage.catalogue_cache import releases_carrying

_SPLIT = (
    SplitAgreement.SplitVersionProposed,  # type: ignore[attr-defined]
    SplitAgreement.SplitVersionAccepted,  # type: ignore[attr-defined]
    SplitAgreement.SplitVersionRefused,  # type: ignore[attr-defined]
    SplitAgreement.SplitVersionActivated,  # type: ignore[attr-defined]
    SplitAgreement.Established,
)
_DISPUTE = (Dispute.Opened, Dispute.Admitted, Dispute.Refused, Dispute.Resolved)  # type: ignore[attr-defined]
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
    """right "master" → the recording `subject_key` (ISRC); "publishing" → the work `subject_key`.

    The aggregates that belong to the trail are found first — the split, the recording or work,
    the disputes over this right (from the log's Dispute.Opened events only) and, for a
    recording, the releases carrying it (from the kept catalogue) — then only their events are
    read, by aggregate id: never a pass over every rights event in the log."""
    split = split_agreement_id(right, subject_key)
    own = recording_id(subject_key) if right == "master" else work_id(subject_key)
    owners: dict[UUID, str] = {split: f"{right} split", own: "recording" if right == "master" else "work"}
    for n in app.read_log(topics=app.topics_of(Dispute.Opened)):  # type: ignore[attr-defined]
        event = app.decode(n)
        if (event.right, event.subject_key) == (right, subject_key):
            owners[UUID(str(n.originator_id))] = f"dispute {n.originator_id}"
    if right == "master":
        for upc in releases_carrying(app, subject_key):
            owners[release_id(upc)] = f"release {upc}"
    topics = app.topics_of(
        *_SPLIT, *_DISPUTE, *(_RECORDING if right == "master" else _WORK), *(_RELEASE if right == "master" else ())
    )
    entries = []
    for n in app.log_of(list(owners), topics=topics):
        event = app.decode(n)
        entries.append(
            {
                "position": n.id,
                "recorded_at": event.timestamp,
                "actor": getattr(event, "actor", ""),
                "subject": owners[UUID(str(n.originator_id))],
                "event": type(event).__name__,
                "details": _details(event),
            }
        )
    return entries
