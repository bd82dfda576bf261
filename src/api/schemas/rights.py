"""Rights payloads: split versions (propose, accept, activate), disputes, histories and trails."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from api.schemas.common import Key, Note, Ppm, Reason, Shares, Stamp, Strict, UtcTime, WriteResult, checked

Right = Literal["master", "publishing"]


class SplitProposalCreate(Strict):
    """A new version of the (right, subject) split, proposed by the party in the path."""

    right: Right
    subject_key: Annotated[Key, Field(description="An ISRC for master, a work key for publishing.")]
    shares: Shares
    effective_from: UtcTime
    reason: Note = ""
    kind: Literal["change", "transfer"] = "change"


class SplitAcceptanceCreate(Strict):
    right: Right
    subject_key: Key
    version: int = Field(ge=1)


class SplitRefusalCreate(Strict):
    right: Right
    subject_key: Key
    version: int = Field(ge=1)
    reason: Reason


class SplitVersionCreate(Strict):
    """A version set by an admin or distributor (initial delivery): activated with its reason."""

    shares: Shares
    effective_from: UtcTime
    reason: Reason
    kind: Literal["initial", "change", "transfer", "correction"] = "initial"


class SplitActivationCreate(Strict):
    """Activate a proposed version without every acceptance: an admin override, with a reason."""

    reason: Reason


class SplitVersionPublic(BaseModel):
    version: int
    shares: dict[str, int]
    effective_from: datetime
    kind: str
    reason: str
    proposed_by: str
    required: list[str]
    consent_from: list[str] | None = Field(
        description="A first version: the delivering parties, one of whom must accept (or an admin "
        "override it); empty when none is known. Null for later versions."
    )
    status: Literal["proposed", "active", "refused"]
    proposed: Stamp
    acceptances: list[dict[str, Any]]
    refusal: dict[str, Any] | None
    activation: dict[str, Any] | None


class SplitProposalPublic(BaseModel):
    """A proposed version that waits for the party's acceptance or refusal."""

    right: str
    subject_key: str
    version: int
    shares: dict[str, int]
    effective_from: datetime
    kind: str
    reason: str
    proposed_by: str
    required: list[str]
    consent_from: list[str] | None
    accepted_by: list[str]


class SplitHistoryPublic(BaseModel):
    right: str
    subject_key: str
    versions: list[SplitVersionPublic]


class SplitWritten(WriteResult):
    right: str
    subject_key: str
    version: int
    status: str


class DisputeCreate(Strict):
    right: Right
    subject_key: Key
    claimed_ppm: Ppm
    effective_from: UtcTime
    statement: Annotated[str, Field(min_length=1, max_length=10_000), checked("statement")]
    respondent: Key | None = None


class DisputeDecisionCreate(Strict):
    """An operator's admission or refusal of a pending dispute, with its reason."""

    reason: Reason


class DisputeResolutionCreate(Strict):
    outcome: Literal["upheld", "rejected", "partial"]
    note: Reason
    awarded_ppm: Ppm | None = None
    corrected_shares: Shares | None = Field(
        default=None, description="Upheld or partial: the shares to activate as a new version."
    )
    effective_from: UtcTime | None = None


class DisputePublic(BaseModel):
    dispute_id: str
    right: str
    subject_key: str
    claimant: str
    respondent: str | None
    claimed_ppm: int
    effective_from: datetime
    statement: str
    status: str = Field(
        description="pending (no standing shown yet, moves no money), open (escrows the claim), "
        "refused (never moved money) or resolved (escrow released by the outcome)."
    )
    standing: str | None = Field(
        description="Why it moves money: credit, share, operator (opened or admitted by one); "
        "unchecked for disputes recorded before standing was checked; null while pending."
    )
    decision_note: str = Field(description="The reason an operator gave to admit or refuse it.")
    outcome: str | None
    awarded_ppm: int
    resolution_note: str
    escrow_account: str


class DisputeWritten(WriteResult):
    dispute: DisputePublic


class TrailEntry(BaseModel):
    """One change to who is paid, in log order."""

    position: int
    recorded_at: datetime
    actor: str
    subject: str = Field(description="What changed: the split, the recording, a dispute, a release.")
    event: str
    details: dict[str, Any]


class OwnershipTrailPublic(BaseModel):
    subject: str
    key: str
    head_position: int
    entries: list[TrailEntry]
