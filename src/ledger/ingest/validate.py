"""Validation of a delivery, release by release: accepted whole (normalised) or rejected whole.

Every reason names where (release, track, recording, work, party) and what is wrong; identifier
reasons are the `InvalidIdentifier` messages of `ledger.domain.identifiers`, so they name the
value and why it fails. Shares are exact ppm and must sum to 1 000 000 per split.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta

from ledger.domain.identifiers import (
    InvalidIdentifier,
    parse_ipi,
    parse_isni,
    parse_isrc,
    parse_iswc,
    parse_territory,
    parse_upc,
)
from ledger.ingest.delivery import (
    PPM_WHOLE,
    DealSummary,
    DeliveredParty,
    DeliveredRecording,
    DeliveredRelease,
    DeliveredWork,
    DeliveryMessage,
    InvalidShare,
    ReleaseType,
    Takedown,
    percentage_to_ppm,
)
from ledger.ingest.report import ReleaseOutcome, Status, ValidationReport

CLOCK_SKEW = timedelta(minutes=5)
_RELEASE_TYPES = {t.value for t in ReleaseType}


class _Reasons:
    """Collects reasons; `ident` normalises an identifier or records why it cannot."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, reason: str) -> None:
        self.items.append(reason)

    def ident(self, where: str, parse: Callable[[str], str], value: str) -> str:
        try:
            return parse(value)
        except InvalidIdentifier as exc:
            self.add(f"{where}: {exc}")
            return value

    def territories(self, where: str, codes: Iterable[str]) -> tuple[str, ...]:
        return tuple(self.ident(where, lambda c: parse_territory(c, allow_worldwide=True), c) for c in codes)

    def split(self, where: str, percentages: list[str | None]) -> None:
        """A split is whole: every share given, each exact in ppm, summing to 1 000 000."""
        if any(p is None for p in percentages):
            self.add(f"{where}: some shares are given and some are not")
            return
        try:
            total = sum(percentage_to_ppm(p) for p in percentages if p is not None)
        except InvalidShare as exc:
            self.add(f"{where}: {exc}")
            return
        if total != PPM_WHOLE:
            self.add(f"{where}: shares sum to {total} ppm, not {PPM_WHOLE}")


def _party(r: _Reasons, party: DeliveredParty) -> DeliveredParty:
    where = f"party {party.reference}"
    if not party.name:
        r.add(f"{where}: name is missing")
    ipi = r.ident(where, parse_ipi, party.ipi) if party.ipi else None
    isni = r.ident(where, parse_isni, party.isni) if party.isni else None
    if party.dpid and not party.dpid.startswith("PADPIDA"):
        r.add(f"{where}: DPID {party.dpid}: must start with PADPIDA")
    return replace(party, ipi=ipi, isni=isni)


def _known(r: _Reasons, where: str, refs: Iterable[str], parties: set[str]) -> None:
    for ref in dict.fromkeys(refs):
        if ref not in parties:
            r.add(f"{where}: references party {ref}, which is not in the message")


def _recording(r: _Reasons, rec: DeliveredRecording, parties: set[str]) -> DeliveredRecording:
    where = f"recording {rec.reference}"
    isrc = r.ident(where, parse_isrc, rec.isrc) if rec.isrc else ""
    if not rec.isrc:
        r.add(f"{where}: ISRC is missing")
    for value, name in ((rec.title, "title"), (rec.display_artist, "display artist")):
        if not value:
            r.add(f"{where}: {name} is missing")
    if rec.duration_ms is None:
        r.add(f"{where}: duration is missing or malformed")
    elif rec.duration_ms <= 0:
        r.add(f"{where}: duration must be positive")
    _known(r, where, [c.party_ref for c in rec.credits], parties)
    if rec.master_split:
        _known(r, f"{where} master split", [s.party_ref for s in rec.master_split], parties)
        r.split(f"{where} master split", [s.percentage for s in rec.master_split])
    return replace(rec, isrc=isrc)


def _work(r: _Reasons, work: DeliveredWork, parties: set[str]) -> DeliveredWork:
    where = f"work {work.reference}"
    iswc = r.ident(where, parse_iswc, work.iswc) if work.iswc else None
    if not work.title:
        r.add(f"{where}: title is missing")
    _known(r, where, [w.party_ref for w in work.writers], parties)
    if any(w.percentage is not None for w in work.writers):
        r.split(f"{where} publishing split", [w.percentage for w in work.writers])
    return replace(work, iswc=iswc)


def _deal(r: _Reasons, deal: DealSummary) -> DealSummary:
    return replace(
        deal,
        territories=r.territories("deal", deal.territories),
        excluded_territories=r.territories("deal", deal.excluded_territories),
    )


def _release_fields(r: _Reasons, release: DeliveredRelease, parties: set[str]) -> None:
    for value, name in (
        (release.title, "title"),
        (release.display_artist, "display artist"),
    ):
        if not value:
            r.add(f"{name} is missing")
    if release.release_type not in _RELEASE_TYPES:
        r.add(f"release type {release.release_type!r} is not single, ep, album or compilation")
    if release.release_on is None:
        r.add("release date is missing or not YYYY-MM-DD")
    if not release.label_ref:
        r.add("label is missing")
    else:
        _known(r, "label", [release.label_ref], parties)
    if not release.territories:
        r.add("no territories: neither a deal nor the release says where it is available")


def _tracks(r: _Reasons, release: DeliveredRelease, recordings: list[DeliveredRecording]) -> None:
    known = {rec.reference for rec in release.recordings}
    if not release.track_refs:
        r.add("the release has no tracks")
    for number, ref in enumerate(release.track_refs, start=1):
        if ref not in known:
            r.add(f"track {number} references resource {ref}, which is not in the message")
    counts = Counter(rec.isrc for rec in recordings if rec.isrc)
    for isrc, count in counts.items():
        if count > 1:
            r.add(f"ISRC {isrc} appears {count} times in the release")


def check_release(release: DeliveredRelease) -> tuple[tuple[str, ...], DeliveredRelease]:
    """All reasons the release cannot be imported, and its normalised form (if there are none)."""
    r = _Reasons()
    r.items.extend(release.problems)
    parties = {p.reference for p in release.parties}
    upc = r.ident("release", parse_upc, release.upc) if release.upc else ""
    if not release.upc:
        r.add("UPC/ICPN is missing")
    _release_fields(r, release, parties)
    recordings = [_recording(r, rec, parties) for rec in release.recordings]
    _tracks(r, release, recordings)
    normalised = replace(
        release,
        upc=upc,
        recordings=tuple(recordings),
        works=tuple(_work(r, w, parties) for w in release.works),
        parties=tuple(_party(r, p) for p in release.parties),
        territories=r.territories("release", release.territories),
        excluded_territories=r.territories("release", release.excluded_territories),
        deals=tuple(_deal(r, d) for d in release.deals),
    )
    return tuple(dict.fromkeys(r.items)), normalised


def check_takedown(takedown: Takedown) -> tuple[tuple[str, ...], Takedown]:
    r = _Reasons()
    upc = r.ident("takedown", parse_upc, takedown.upc) if takedown.upc else ""
    if not takedown.upc:
        r.add("takedown: UPC/ICPN is missing")
    if takedown.effective_at is None:
        r.add("takedown: no effective time")
    territories = r.territories("takedown", takedown.territories)
    return tuple(r.items), replace(takedown, upc=upc, territories=territories)


def _message_errors(message: DeliveryMessage, now: datetime | None) -> list[str]:
    errors = list(message.problems)
    created = message.created_at
    if created is not None and now is not None and created > now + CLOCK_SKEW:
        errors.append(f"MessageCreatedDateTime {created.isoformat()} is in the future")
    if not message.releases and not message.takedowns:
        errors.append("the message contains no release and no takedown")
    return errors


def _outcome(
    reasons: tuple[str, ...],
    blocked: bool,
    *,
    reference: str,
    upc: str,
    title: str,
    action: str,
    release: DeliveredRelease | None = None,
    takedown: Takedown | None = None,
) -> ReleaseOutcome:
    if blocked:
        reasons = (*reasons, "not imported: the message itself was rejected")
    return ReleaseOutcome(
        reference=reference,
        upc=upc,
        title=title,
        action=action,
        status=Status.REJECTED if reasons else Status.ACCEPTED,
        reasons=reasons,
        release=release,
        takedown=takedown,
    )


def validate_message(message: DeliveryMessage, *, source: str = "", now: datetime | None = None) -> ValidationReport:
    errors = _message_errors(message, now)
    outcomes: list[ReleaseOutcome] = []
    for release in message.releases:
        reasons, normalised = check_release(release)
        outcomes.append(
            _outcome(
                reasons,
                bool(errors),
                reference=release.reference,
                upc=normalised.upc,
                title=release.title,
                action=message.kind.value,
                release=normalised if not reasons else release,
            )
        )
    for takedown in message.takedowns:
        reasons, clean = check_takedown(takedown)
        outcomes.append(
            _outcome(
                reasons,
                bool(errors),
                reference=takedown.release_ref,
                upc=clean.upc,
                title="",
                action="takedown",
                takedown=clean,
            )
        )
    return ValidationReport(
        source=source,
        message_id=message.message_id,
        sender_dpid=message.sender_dpid,
        kind=message.kind.value,
        ern_version=message.ern_version,
        message_errors=tuple(errors),
        outcomes=tuple(outcomes),
    )


def report_unreadable(source: str, error: str) -> ValidationReport:
    """The report for a file that could not be read at all (not XML, unsafe, unsupported)."""
    return ValidationReport(
        source=source,
        message_id="",
        sender_dpid="",
        kind="",
        ern_version="",
        message_errors=(error,),
    )
