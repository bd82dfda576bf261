"""Histories read from the log: every version of a split, with positions, recorded times and actors."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ledger.domain.ids import split_agreement_id
from ledger.domain.split_agreement import SplitAgreement

if TYPE_CHECKING:
    from ledger.application import RoyaltyLedger

SPLIT_EVENTS = (
    SplitAgreement.SplitVersionProposed,  # type: ignore[attr-defined]
    SplitAgreement.SplitVersionAccepted,  # type: ignore[attr-defined]
    SplitAgreement.SplitVersionRefused,  # type: ignore[attr-defined]
    SplitAgreement.SplitVersionActivated,  # type: ignore[attr-defined]
    SplitAgreement.Established,
)


def split_history(app: RoyaltyLedger, right: str, subject_key: str) -> list[dict[str, Any]]:
    """Every version of the (right, subject) split: shares, effective_from, proposer, whose
    acceptance it asks (`required`; for a first version also one of `consent_from`, the parties
    that delivered the subject), each acceptance, a refusal, the activation — each with the log
    position, recorded time and actor."""
    agreement_id = split_agreement_id(right, subject_key)
    versions: dict[int, dict[str, Any]] = {}
    for n in app.log_of([agreement_id], topics=app.topics_of(*SPLIT_EVENTS)):
        e = app.decode(n)
        stamp = {"position": n.id, "recorded_at": e.timestamp, "actor": e.actor}
        name = type(e).__name__
        if name in ("SplitVersionProposed", "Established"):
            versions[e.version] = {
                "version": e.version,
                "shares": e.shares,
                "effective_from": e.effective_from,
                "kind": e.kind,
                "reason": e.reason,
                "proposed_by": e.proposed_by,
                "required": e.required,
                "consent_from": getattr(e, "consent_from", [] if name == "Established" else None),
                "proposed": stamp,
                "acceptances": [],
                "refusal": None,
                "activation": None,
                "status": "proposed",
            }
            if name == "Established":  # proposed and activated by the delivery at once
                versions[e.version]["activation"] = {"override_reason": e.override_reason, **stamp}
                versions[e.version]["status"] = "active"
        elif name == "SplitVersionAccepted":
            versions[e.version]["acceptances"].append({"party": e.party_key, **stamp})
        elif name == "SplitVersionRefused":
            versions[e.version]["refusal"] = {"party": e.party_key, "reason": e.reason, **stamp}
            versions[e.version]["status"] = "refused"
        else:
            versions[e.version]["activation"] = {"override_reason": e.override_reason, **stamp}
            versions[e.version]["status"] = "active"
    return [versions[v] for v in sorted(versions)]
