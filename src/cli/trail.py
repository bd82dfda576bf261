"""`royalty trail`: the ownership trail of a recording or a work — every change to who is paid,
each decision with its position, recorded time and actor (the API's trail routes, as the operator)."""

from __future__ import annotations

from typing import Any

from api.routers import trails as trails_api
from api.schemas.rights import OwnershipTrailPublic
from cli.context import ledger
from cli.output import JSON_OPTION, console, fail, report, table
from cli.splits import SUBJECT, right_and_key
from cli.writes import operator
from ledger.application import NotFound
from ledger.domain.identifiers import InvalidIdentifier
from ledger.domain.party import DomainError

# The details that say what a decision was, in this order; the rest is in --json.
_SHOWN = (
    "version",
    "shares",
    "effective_from",
    "party_key",
    "claimant",
    "respondent",
    "claimed_ppm",
    "standing",
    "outcome",
    "awarded_ppm",
    "territories",
    "override_reason",
    "reason",
    "note",
)


def _summary(details: dict[str, Any]) -> str:
    return ", ".join(f"{k}={details[k]}" for k in _SHOWN if k in details and details[k] not in ("", [], {}))


def trail(code: str = SUBJECT, as_json: bool = JSON_OPTION) -> None:
    """Everything that changed who is paid for a recording (ISRC) or a work (ISWC / work key):
    split versions proposed, accepted, refused and activated; disputes opened (open or pending),
    admitted, refused and resolved; work links, takedowns — position, time and actor each."""
    app_ = ledger()
    try:
        right, key = right_and_key(code)
        answer: OwnershipTrailPublic = (
            trails_api.recording_trail(app_.get_recording(key), app_, operator())
            if right == "master"
            else trails_api.work_trail(app_.get_work(key), app_, operator())
        )
    except (NotFound, DomainError, InvalidIdentifier) as exc:
        fail(str(exc), as_json)
    doc = answer.model_dump(mode="json")
    rows = [
        (e["position"], e["recorded_at"][:19], e["actor"], e["subject"], e["event"], _summary(e["details"]))
        for e in doc["entries"]
    ]
    report(
        doc,
        as_json,
        lambda: console.print(
            table(
                f"ownership trail of {doc['subject']} {doc['key']} (head {doc['head_position']})",
                ["position", "recorded", "actor", "subject", "event", "what"],
                rows,
            )
        ),
    )
