"""`import_paths`: DDEX ERN and catalogue CSV files into the ledger, all or nothing per release.

Each file is parsed and validated (`ledger.ingest.ern` / `catalogue_csv`); each accepted release
is prepared as one Pending batch (`ledger.ingest.apply`) and saved in ONE transaction. The
outcome per release is accepted (new), updated, unchanged or rejected with its reasons; rejections
found while importing (a suspended sender, a release owned by another sender, an identifier clash)
are added to the file's ValidationReport.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from ledger.domain.delivery_receipt import DeliveryReceipt, delivery_receipt_id
from ledger.domain.identifiers import InvalidIdentifier
from ledger.domain.party import DomainError, Party
from ledger.ingest.apply import (
    Delivery,
    Sender,
    aggregate_ids,
    prepare_release,
    prepare_takedown,
    release_candidates,
)
from ledger.ingest.bulk import fewer_collections
from ledger.ingest.catalogue_csv import check_catalogue_csv
from ledger.ingest.checking import Checked, checked_in_order, file_digest, pool_workers
from ledger.ingest.delivery import DeliveredParty, DeliveryMessage, PartyKind
from ledger.ingest.import_report import FileImport, ImportedItem, ImportSummary
from ledger.ingest.parties import PartyDirectory, party_directory
from ledger.ingest.report import ReleaseOutcome, Status, ValidationReport
from ledger.pending import Pending
from ledger.store.existing import existing_ids

if TYPE_CHECKING:
    from ledger.application import RoyaltyLedger

__all__ = ["FileImport", "ImportSummary", "ImportedItem", "delivery_files", "import_message", "import_paths"]

SUFFIXES = (".xml", ".csv")
# Releases committed together: one fsync per group instead of one per release (measured in
# benchmarks/bench_ern_import.py); a group never holds a takedown or a re-delivered item.
GROUP_SIZE = 32
Progress = Callable[[int, int, str], None]


def delivery_files(paths: Iterable[Path]) -> list[Path]:
    """Files as given; folders walked for *.xml and *.csv, in name order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
        else:
            found.append(path)
    return list(dict.fromkeys(found))


@dataclass
class _Run:
    app: RoyaltyLedger
    actor: str
    directory: PartyDirectory
    items: list[ImportedItem] = field(default_factory=list)


def _sender(run: _Run, message: DeliveryMessage) -> Sender:
    known = run.directory.by_dpid(message.sender_dpid) if message.sender_dpid else None
    party = DeliveredParty(
        "sender", message.sender_name or message.sender_dpid, PartyKind.DISTRIBUTOR, dpid=message.sender_dpid or None
    )
    if known is not None:
        return Sender(known.key, party, known.verification == "verified", known.verification == "suspended")
    return Sender(run.directory.resolve(party), party, False, False)


def _save(run: _Run, pending: Pending) -> bool:
    changed = pending.save()
    for aggregate in changed:
        if isinstance(aggregate, Party):
            run.directory.note(aggregate)
    return bool(changed)


def _received(run: _Run, delivery: Delivery, item: str) -> DeliveryReceipt | None:
    """The receipt of this item of this message, if it was imported before (with the same content)."""
    sender = delivery.sender.party.dpid or delivery.sender.key
    receipt_id = delivery_receipt_id(sender, delivery.message_id, item)
    if not existing_ids(run.app, [receipt_id]):
        return None
    receipt = run.app.repository.get(receipt_id)
    assert isinstance(receipt, DeliveryReceipt)
    if receipt.content_sha256 != delivery.content_sha256:
        raise DomainError(_changed_content(delivery))
    return receipt


def _changed_content(delivery: Delivery) -> str:
    return (
        f"message {delivery.message_id} was imported before with different content; "
        "a new delivery needs a new MessageId"
    )


def _stored_digests(app: RoyaltyLedger, receipt_ids: set[UUID]) -> dict[UUID, str]:
    """Each receipt's content digest, read in one query (the in-memory store: one by one)."""
    if getattr(app.recorder, "datastore", None) is None:
        return {i: app.repository.get(i).content_sha256 for i in receipt_ids}
    notes = app.log_of(list(receipt_ids), topics=app.topics_of(DeliveryReceipt.Received))  # type: ignore[attr-defined]
    return {UUID(str(n.originator_id)): app.decode(n).content_sha256 for n in notes}


def _all_received(run: _Run, jobs: list[_Job], receipt_ids: dict[str, UUID]) -> bool:
    """A group that is all re-delivery (every item receipted before): each unchanged, or refused
    when its content differs, from one read of the receipts; False when any is not receipted."""
    digests = _stored_digests(run.app, set(receipt_ids.values()))
    if len(receipt_ids) != len(jobs) or any(receipt_ids[j.item] not in digests for j in jobs):
        return False
    for job in jobs:
        if digests[receipt_ids[job.item]] == job.delivery.content_sha256:
            job.result, job.status = "unchanged", ""
        else:
            job.result, job.status = "rejected", ""
            job.reasons = (f"not imported: {_changed_content(job.delivery)}",)
    return True


def _item(outcome: ReleaseOutcome) -> str:
    """What a receipt names: the release, and for a takedown where it applies (one message may end
    a release's deals in several territories, each its own takedown)."""
    item = f"{outcome.action}:{outcome.upc}"
    takedown = outcome.takedown
    if takedown is not None and tuple(takedown.territories) != ("WW",):
        item += ":" + ",".join(sorted(takedown.territories))
    return item


def _apply(run: _Run, delivery: Delivery, outcome: ReleaseOutcome) -> tuple[str, str]:
    """(result, release status) of one accepted outcome; raises DomainError to reject it.

    A message item imported before is not prepared again: re-importing a sequence of messages
    (a delivery, then its update) must not replay the older one over the newer.
    """
    if delivery.sender.suspended:
        raise DomainError(f"sender {delivery.sender.key} is suspended: its deliveries are refused")
    item = _item(outcome)
    if _received(run, delivery, item) is not None:
        return "unchanged", ""
    status = ""
    if outcome.takedown is not None:
        pending, is_new = prepare_takedown(run.app, delivery, outcome.takedown), False
    else:
        assert outcome.release is not None
        pending, is_new, status = prepare_release(run.app, delivery, outcome.release)
    result = "accepted" if is_new else "updated" if pending.changed() else "unchanged"
    if result != "unchanged":
        pending.add(
            DeliveryReceipt(
                sender_dpid=delivery.sender.party.dpid or delivery.sender.key,
                message_id=delivery.message_id,
                item=item,
                content_sha256=delivery.content_sha256,
                result=result,
                actor=run.actor,
            )
        )
    _save(run, pending)
    return result, status


@dataclass
class _Job:
    """One accepted release or takedown waiting to be imported, and what became of it."""

    delivery: Delivery
    outcome: ReleaseOutcome
    result: str = "rejected"
    status: str = ""
    reasons: tuple[str, ...] = ()

    @property
    def item(self) -> str:
        return _item(self.outcome)


def _apply_one(run: _Run, job: _Job) -> None:
    try:
        job.result, job.status = _apply(run, job.delivery, job.outcome)
    except (DomainError, InvalidIdentifier, IntegrityError) as exc:
        job.reasons = (f"not imported: {exc}",)


def _receipt(run: _Run, job: _Job, result: str) -> DeliveryReceipt:
    d = job.delivery
    return DeliveryReceipt(
        sender_dpid=d.sender.party.dpid or d.sender.key,
        message_id=d.message_id,
        item=job.item,
        content_sha256=d.content_sha256,
        result=result,
        actor=run.actor,
    )


def _commit_group(run: _Run, jobs: list[_Job]) -> bool:
    """Several releases in ONE transaction (group commit); False when any of them needs to go alone.

    Each release is still whole or absent: if one fails to prepare or the save fails, nothing of
    the group was written and the caller imports them one by one, each in its own transaction.
    """
    sender_ids = {
        j.item: delivery_receipt_id(
            j.delivery.sender.party.dpid or j.delivery.sender.key, j.delivery.message_id, j.item
        )
        for j in jobs
    }
    received = existing_ids(run.app, set(sender_ids.values()))  # the receipts first: a few ids
    if received:
        # all of it imported before (a re-import): settled from the receipts at once; some of it:
        # the receipts are checked one by one
        return len(received) == len(jobs) and _all_received(run, jobs, sender_ids)
    ids = set().union(*(aggregate_ids(j.outcome.release) for j in jobs if j.outcome.release))
    present = existing_ids(run.app, ids)
    pending = Pending(run.app, present=present, absent=ids - present)
    try:
        for job in jobs:
            assert job.outcome.release is not None
            # Counting pending events walks the whole group: only a release on record needs it.
            known = any(
                i in pending.aggregates or i not in pending.absent
                for i in release_candidates(job.outcome.release.identifiers)
            )
            before = pending.event_count() if known else 0
            _, is_new, job.status = prepare_release(run.app, job.delivery, job.outcome.release, pending)
            job.result = "accepted" if is_new else "updated" if pending.event_count() > before else "unchanged"
            if job.result != "unchanged":
                pending.add(_receipt(run, job, job.result))
        _save(run, pending)
    except (DomainError, InvalidIdentifier, IntegrityError):
        return False
    return True


def _flush(run: _Run, jobs: list[_Job]) -> None:
    """Import jobs in order: runs of plain releases by group commit, everything else one by one."""
    group: list[_Job] = []
    for job in [*jobs, None]:
        plain = job is not None and job.outcome.release is not None and not job.delivery.sender.suspended
        if plain and len(group) < GROUP_SIZE:
            group.append(job)  # type: ignore[arg-type]
            continue
        if group and not _commit_group(run, group):
            for member in group:
                member.result, member.status = "rejected", ""
                _apply_one(run, member)
        group = [job] if plain else []  # type: ignore[list-item]
        if job is not None and not plain:
            _apply_one(run, job)


def _open(
    run: _Run, message: DeliveryMessage | None, report: ValidationReport, content_sha256: str
) -> list[_Job | None]:
    """A job for every accepted outcome (None for the rejected ones), in report order."""
    if message is None or report.message_errors:
        return [None for _ in report.outcomes]
    created = message.created_at or run.app.clock()
    delivery = Delivery(_sender(run, message), message.message_id, created, run.actor, run.directory, content_sha256)
    return [_Job(delivery, o) if o.accepted else None for o in report.outcomes]


def _close(source: str, report: ValidationReport, jobs: list[_Job | None]) -> FileImport:
    """The file's result; the report gains the rejections found while importing."""
    outcomes: list[ReleaseOutcome] = []
    items: list[ImportedItem] = []
    for outcome, job in zip(report.outcomes, jobs, strict=True):
        result, status, reasons = "rejected", "", outcome.reasons
        if job is not None:
            result, status, reasons = job.result, job.status, job.reasons or outcome.reasons
            if result == "rejected":
                outcome = replace(outcome, status=Status.REJECTED, reasons=reasons)
        outcomes.append(outcome)
        items.append(
            ImportedItem(
                source,
                report.message_id,
                outcome.reference,
                outcome.upc,
                outcome.title,
                outcome.action,
                result,
                status,
                tuple(reasons),
            )
        )
    return FileImport(source, replace(report, outcomes=tuple(outcomes)), items)


def import_message(
    run: _Run, source: str, message: DeliveryMessage | None, report: ValidationReport, content_sha256: str
) -> FileImport:
    """Import the accepted outcomes of one validated message."""
    jobs = _open(run, message, report, content_sha256)
    _flush(run, [j for j in jobs if j is not None])
    return _close(source, report, jobs)


def _is_csv(path: Path) -> bool:
    return path.suffix.lower() == ".csv"


def _check_csv(run: _Run, path: Path, csv_sender: str | None) -> Checked:
    message, report = _csv_message(run, path, csv_sender)
    return message, report, file_digest(path)


def _csv_message(run: _Run, path: Path, csv_sender: str | None) -> tuple[DeliveryMessage | None, ValidationReport]:
    now = run.app.clock()
    sender = run.directory.by_key.get(csv_sender or "")
    if sender is None or not sender.identifiers.get("dpid"):
        from ledger.ingest.validate import report_unreadable

        why = f"party {csv_sender} is not registered with a DPID" if csv_sender else "no sender given"
        return None, report_unreadable(str(path), f"a CSV delivery needs its sender: {why} (--sender PARTY)")
    return check_catalogue_csv(
        path,
        sender_dpid=sender.identifiers["dpid"],
        sender_name=sender.name,
        created_at=now,
        now=now,
        source_name=str(path),
    )


def import_paths(
    app: RoyaltyLedger,
    paths: Sequence[Path],
    actor: str,
    progress: Progress | None = None,
    *,
    csv_sender: str | None = None,
    report_dir: Path | None = None,
) -> ImportSummary:
    """Import every delivery file under `paths`; write the report (JSON + CSV) to `report_dir`."""
    files = delivery_files(paths)
    run = _Run(app, actor, party_directory(app))
    summary = ImportSummary()
    waiting: list[tuple[str, ValidationReport, list[_Job | None]]] = []
    # ERN files are checked ahead, in worker processes when there are many; CSV files need the
    # party directory as it stands, so they are checked here, in turn.
    erns = [f for f in files if not _is_csv(f)]
    with fewer_collections(), closing(checked_in_order(erns, app.clock, pool_workers(len(erns)))) as checked:
        for number, path in enumerate(files, start=1):
            message, report, digest = _check_csv(run, path, csv_sender) if _is_csv(path) else next(checked)
            waiting.append((str(path), report, _open(run, message, report, digest)))
            queued = [j for _, _, jobs in waiting for j in jobs if j is not None]
            if len(queued) >= GROUP_SIZE or number == len(files):
                _flush(run, queued)
                summary.files += [_close(*w) for w in waiting]
                waiting = []
            if progress is not None:
                progress(number, len(files), str(path))
    if report_dir is not None:
        summary.write(report_dir)
    return summary


def import_document(
    app: RoyaltyLedger,
    source: str,
    message: DeliveryMessage | None,
    report: ValidationReport,
    actor: str,
    content: bytes,
) -> FileImport:
    """Import one already-checked message (the API's upload path)."""
    digest = hashlib.sha256(content).hexdigest()
    return import_message(_Run(app, actor, party_directory(app)), source, message, report, digest)
