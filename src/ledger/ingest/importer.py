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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from eventsourcing.persistence import IntegrityError

from ledger.domain.delivery_receipt import DeliveryReceipt, delivery_receipt_id
from ledger.domain.identifiers import InvalidIdentifier
from ledger.domain.party import DomainError, Party
from ledger.ingest.apply import Delivery, Sender, prepare_release, prepare_takedown
from ledger.ingest.catalogue_csv import check_catalogue_csv
from ledger.ingest.delivery import DeliveredParty, DeliveryMessage, PartyKind
from ledger.ingest.ern import check_ern
from ledger.ingest.import_report import FileImport, ImportedItem, ImportSummary
from ledger.ingest.parties import PartyDirectory, party_directory
from ledger.ingest.report import ReleaseOutcome, Status, ValidationReport
from ledger.pending import Pending
from ledger.store.existing import existing_ids

if TYPE_CHECKING:
    from ledger.application import RoyaltyLedger

__all__ = ["FileImport", "ImportSummary", "ImportedItem", "delivery_files", "import_message", "import_paths"]

SUFFIXES = (".xml", ".csv")
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
    party = DeliveredParty("sender", message.sender_name or message.sender_dpid, PartyKind.DISTRIBUTOR,
                           dpid=message.sender_dpid or None)
    if known is not None:
        return Sender(known.key, party, known.verification == "verified", known.verification == "suspended")
    return Sender(run.directory.resolve(party), party, False, False)


def _save(run: _Run, pending: Pending) -> bool:
    changed = pending.changed()
    if changed:
        run.app.save(*changed)
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
        raise DomainError(f"message {delivery.message_id} was imported before with different content; "
                          "a new delivery needs a new MessageId")
    return receipt


def _apply(run: _Run, delivery: Delivery, outcome: ReleaseOutcome) -> tuple[str, str]:
    """(result, release status) of one accepted outcome; raises DomainError to reject it.

    A message item imported before is not prepared again: re-importing a sequence of messages
    (a delivery, then its update) must not replay the older one over the newer.
    """
    if delivery.sender.suspended:
        raise DomainError(f"sender {delivery.sender.key} is suspended: its deliveries are refused")
    item = f"{outcome.action}:{outcome.upc}"
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
        pending.add(DeliveryReceipt(sender_dpid=delivery.sender.party.dpid or delivery.sender.key,
                                    message_id=delivery.message_id, item=item,
                                    content_sha256=delivery.content_sha256, result=result, actor=run.actor))
    _save(run, pending)
    return result, status


def import_message(run: _Run, source: str, message: DeliveryMessage | None, report: ValidationReport,
                   content_sha256: str) -> FileImport:
    """Import the accepted outcomes of one validated message; the report gains import rejections."""
    outcomes: list[ReleaseOutcome] = []
    items: list[ImportedItem] = []
    delivery = None
    if message is not None and not report.message_errors:
        sender = _sender(run, message)
        created = message.created_at or run.app.clock()
        delivery = Delivery(sender, message.message_id, created, run.actor, run.directory, content_sha256)
    for outcome in report.outcomes:
        result, status, reasons = "rejected", "", outcome.reasons
        if outcome.accepted and delivery is not None:
            try:
                result, status = _apply(run, delivery, outcome)
            except (DomainError, InvalidIdentifier, IntegrityError) as exc:
                reasons = (f"not imported: {exc}",)
                outcome = replace(outcome, status=Status.REJECTED, reasons=reasons)
        outcomes.append(outcome)
        items.append(ImportedItem(source, report.message_id, outcome.reference, outcome.upc, outcome.title,
                                  outcome.action, result, status, tuple(reasons)))
    run.items += items
    return FileImport(source, replace(report, outcomes=tuple(outcomes)), items)


def _check(run: _Run, path: Path, csv_sender: str | None) -> tuple[DeliveryMessage | None, ValidationReport]:
    now = run.app.clock()
    if path.suffix.lower() != ".csv":
        return check_ern(path, source_name=str(path), now=now)
    sender = run.directory.by_key.get(csv_sender or "")
    if sender is None or not sender.identifiers.get("dpid"):
        from ledger.ingest.validate import report_unreadable

        why = f"party {csv_sender} is not registered with a DPID" if csv_sender else "no sender given"
        return None, report_unreadable(str(path), f"a CSV delivery needs its sender: {why} (--sender PARTY)")
    return check_catalogue_csv(path, sender_dpid=sender.identifiers["dpid"], sender_name=sender.name,
                               created_at=now, now=now, source_name=str(path))


def import_paths(
    app: RoyaltyLedger, paths: Sequence[Path], actor: str, progress: Progress | None = None, *,
    csv_sender: str | None = None, report_dir: Path | None = None,
) -> ImportSummary:
    """Import every delivery file under `paths`; write the report (JSON + CSV) to `report_dir`."""
    files = delivery_files(paths)
    run = _Run(app, actor, party_directory(app))
    summary = ImportSummary()
    for number, path in enumerate(files, start=1):
        message, report = _check(run, path, csv_sender)
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
        summary.files.append(import_message(run, str(path), message, report, digest))
        if progress is not None:
            progress(number, len(files), str(path))
    if report_dir is not None:
        summary.write(report_dir)
    return summary


def import_document(app: RoyaltyLedger, source: str, message: DeliveryMessage | None, report: ValidationReport,
                    actor: str, content: bytes) -> FileImport:
    """Import one already-checked message (the API's upload path)."""
    digest = hashlib.sha256(content).hexdigest()
    return import_message(_Run(app, actor, party_directory(app)), source, message, report, digest)
