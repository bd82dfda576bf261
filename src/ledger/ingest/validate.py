"""Validation of a delivery, release by release: accepted whole (normalised) or rejected whole.

Every reason names where — the element path in the message (`ReleaseList/Release[2]/ReleaseId/ICPN`,
`ResourceList/SoundRecording[1] (A1)`), or for a CSV the release, track, recording, work or party —
and what is wrong; identifier reasons are the `InvalidIdentifier` messages of
`ledger.domain.identifiers`, so they name the value and why it fails. Shares are exact ppm and must
sum to 1 000 000 per split.

What stops a release (a wrong check digit, a missing ISRC, a split that does not add up, a track
that is not in the message) rejects it. What a person can settle by looking (no release date, no
label, no title or display artist, no deal saying where it is available) does not: the release is
imported and waits in the review queue with those reasons (`DeliveredRelease.review`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta

from ledger.domain.identifiers import (
    InvalidIdentifier,
    parse_grid,
    parse_ipi,
    parse_isni,
    parse_isrc,
    parse_iswc,
    parse_territory,
    parse_upc,
)
from ledger.domain.text import text_problem
from ledger.ingest.delivery import (
    PPM_WHOLE,
    DealSummary,
    DeliveredParty,
    DeliveredRecording,
    DeliveredRelease,
    DeliveredWork,
    DeliveryMessage,
    InvalidShare,
    Takedown,
    percentage_to_ppm,
)
from ledger.ingest.report import ReleaseOutcome, Status, ValidationReport

CLOCK_SKEW = timedelta(minutes=5)


class _Reasons:
    """Collects reasons; `ident` normalises an identifier or records why it cannot."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, reason: str) -> None:
        self.items.append(reason)

    def texts(self, where: str, fields: Iterable[tuple[str, str | None, str]]) -> None:
        """Each (name, value, kind): a character or length its kind does not allow is a reason
        (ledger.domain.text) — the reason names the character, never repeats the value."""
        for name, value, kind in fields:
            if value is not None and (found := text_problem(value, kind)) is not None:
                self.add(f"{where}: {name}: {found[1]}")

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
    where = f"{party.path} ({party.reference})" if party.path else f"party {party.reference}"
    if not party.name:
        r.add(f"{where}: name is missing")
    r.texts(
        where,
        [
            ("reference", party.reference, "key"),
            ("name", party.name, "name"),
            ("IPI", party.ipi, "code"),
            ("ISNI", party.isni, "code"),
            ("DPID", party.dpid, "code"),
        ],
    )
    ipi = r.ident(where, parse_ipi, party.ipi) if party.ipi else None
    isni = r.ident(where, parse_isni, party.isni) if party.isni else None
    if party.dpid and not party.dpid.startswith("PADPIDA"):
        r.add(f"{where}: DPID {party.dpid}: must start with PADPIDA")
    return party if (ipi, isni) == (party.ipi, party.isni) else replace(party, ipi=ipi, isni=isni)


def _known(r: _Reasons, where: str, refs: Iterable[str], parties: set[str]) -> None:
    for ref in dict.fromkeys(refs):
        if ref not in parties:
            r.add(f"{where}: references party {ref}, which is not in the message")


def _recording(r: _Reasons, rec: DeliveredRecording, parties: set[str]) -> DeliveredRecording:
    where = f"{rec.path} ({rec.reference})" if rec.path else f"recording {rec.reference}"
    r.texts(
        where,
        [
            ("reference", rec.reference, "key"),
            ("title", rec.title, "title"),
            ("display artist", rec.display_artist, "name"),
            ("work reference", rec.work_ref, "key"),
            *(("credit role", c.role, "code") for c in rec.credits),
        ],
    )
    isrc = r.ident(where, parse_isrc, rec.isrc) if rec.isrc else ""
    if not rec.isrc and not rec.proprietary_ids:
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
    return rec if isrc == rec.isrc else replace(rec, isrc=isrc)


def _work(r: _Reasons, work: DeliveredWork, parties: set[str]) -> DeliveredWork:
    where = f"{work.path} (work {work.reference})" if work.path else f"work {work.reference}"
    r.texts(
        where,
        [
            ("reference", work.reference, "key"),
            ("title", work.title, "title"),
            *(("writer role", w.role, "code") for w in work.writers),
        ],
    )
    iswc = r.ident(where, parse_iswc, work.iswc) if work.iswc else None
    if not work.title:
        r.add(f"{where}: title is missing")
    _known(r, where, [w.party_ref for w in work.writers], parties)
    if any(w.percentage is not None for w in work.writers):
        r.split(f"{where} publishing split", [w.percentage for w in work.writers])
    return work if iswc == work.iswc else replace(work, iswc=iswc)


def _deal(r: _Reasons, deal: DealSummary) -> DealSummary:
    where = deal.path or "deal"
    territories = r.territories(where, deal.territories)
    excluded = r.territories(where, deal.excluded_territories)
    if (territories, excluded) == (deal.territories, deal.excluded_territories):
        return deal
    return replace(deal, territories=territories, excluded_territories=excluded)


def _review(release: DeliveredRelease, parties: set[str]) -> list[str]:
    """What a person should settle before the release goes live; it is imported meanwhile."""
    if not release.path:  # a CSV row has no review step: the template requires these columns
        return []
    where = release.path
    review = list(release.review)
    for value, element in ((release.title, "DisplayTitleText"), (release.display_artist, "DisplayArtistName")):
        if not value:
            review.append(f"{where}/{element}: missing; the catalogue shows the release without it")
    if not release.label_ref:
        review.append(f"{where}: no label (ReleaseLabelReference / LabelName); name the label before it goes live")
    if not release.territories:
        review.append(f"{where}: no deal (DealList/ReleaseDeal) says where the release is available")
    return review


def _release_fields(r: _Reasons, release: DeliveredRelease, parties: set[str]) -> None:
    r.texts(
        release.path or "release",
        [
            ("reference", release.reference, "key"),
            ("title", release.title, "title"),
            ("display artist", release.display_artist, "name"),
            ("label reference", release.label_ref, "key"),
            ("release type", release.release_type, "code"),
            *(("delivered release type", t, "title") for t in release.release_types),
        ],
    )
    if release.path:
        if release.label_ref:
            _known(r, f"{release.path}/ReleaseLabelReference", [release.label_ref], parties)
        return
    for value, name in (
        (release.title, "title"),
        (release.display_artist, "display artist"),
    ):
        if not value:
            r.add(f"{name} is missing")
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
    at = f"{release.path}: " if release.path else ""
    if not release.track_refs:
        r.add(f"{at}the release has no tracks")
    for number, ref in enumerate(release.track_refs, start=1):
        if ref not in known:
            r.add(f"{at}track {number} references resource {ref}, which is not in the message")
    counts = Counter(rec.isrc for rec in recordings if rec.isrc)
    for isrc, count in counts.items():
        if count > 1:
            r.add(f"{at}ISRC {isrc} appears {count} times in the release")


def _release_ids(r: _Reasons, release: DeliveredRelease | Takedown) -> tuple[str, str]:
    """The release's ICPN and GRid, check digits verified; a release must carry at least one id."""
    where = f"{release.path}/ReleaseId" if release.path else ""
    at_upc = f"{where}/ICPN" if where else ("release" if isinstance(release, DeliveredRelease) else "takedown")
    upc = r.ident(at_upc, parse_upc, release.upc) if release.upc else ""
    grid = r.ident(f"{where or 'release'}/GRid", parse_grid, release.grid) if release.grid else ""
    if not (release.upc or release.grid or release.proprietary_ids):
        if where:
            r.add(f"{where}: no ICPN, GRid or ProprietaryId identifies the release")
        else:
            r.add("UPC/ICPN is missing" if isinstance(release, DeliveredRelease) else "takedown: UPC/ICPN is missing")
    return upc, grid


def check_release(release: DeliveredRelease) -> tuple[tuple[str, ...], DeliveredRelease]:
    """All reasons the release cannot be imported, and its normalised form (if there are none)."""
    r = _Reasons()
    r.items.extend(release.problems)
    parties = {p.reference for p in release.parties}
    upc, grid = _release_ids(r, release)
    _release_fields(r, release, parties)
    recordings = [_recording(r, rec, parties) for rec in release.recordings]
    _tracks(r, release, recordings)
    normalised = replace(
        release,
        upc=upc,
        grid=grid,
        review=tuple(dict.fromkeys(_review(release, parties))),
        recordings=tuple(recordings),
        works=tuple(_work(r, w, parties) for w in release.works),
        parties=tuple(_party(r, p) for p in release.parties),
        territories=r.territories(release.path or "release", release.territories),
        excluded_territories=r.territories(release.path or "release", release.excluded_territories),
        deals=tuple(_deal(r, d) for d in release.deals),
    )
    return tuple(dict.fromkeys(r.items)), normalised


def check_takedown(takedown: Takedown) -> tuple[tuple[str, ...], Takedown]:
    r = _Reasons()
    upc, grid = _release_ids(r, takedown)
    where = takedown.path or "takedown"
    r.texts(where, [("reason", takedown.reason, "reason"), ("reference", takedown.release_ref, "key")])
    if takedown.effective_at is None:
        r.add(f"{where}: no effective time")
    territories = r.territories(where, takedown.territories)
    return tuple(r.items), replace(takedown, upc=upc, grid=grid, territories=territories)


def _message_errors(message: DeliveryMessage, now: datetime | None) -> list[str]:
    errors = list(message.problems)
    checked = _Reasons()
    checked.texts(
        "message",
        [
            ("MessageId", message.message_id, "id"),
            ("sender DPID", message.sender_dpid, "code"),
            ("sender name", message.sender_name, "name"),
        ],
    )
    errors.extend(checked.items)
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
                upc=normalised.key,
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
                upc=clean.key,
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
