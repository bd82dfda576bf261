"""What an import did, per file and per release, as one JSON document and one CSV file."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from ledger.ingest.report import ValidationReport
from ledger.safe_csv import csv_writer

RESULTS = ("accepted", "updated", "unchanged", "rejected")
CSV_COLUMNS = ("source", "message_id", "reference", "upc", "title", "action", "result", "status", "reason")


@dataclass(frozen=True)
class ImportedItem:
    """One release or takedown: accepted (new), updated, unchanged, or rejected with reasons."""

    source: str
    message_id: str
    reference: str
    upc: str
    title: str
    action: str
    result: str
    status: str = ""
    reasons: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "reference": self.reference,
            "upc": self.upc,
            "title": self.title,
            "action": self.action,
            "result": self.result,
            "status": self.status,
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True)
class FileImport:
    source: str
    report: ValidationReport
    items: list[ImportedItem]

    @property
    def refused(self) -> bool:
        """The whole file was refused (unreadable, unsafe, unsupported, or a message-level error)."""
        return bool(self.report.message_errors)

    def to_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "message_id": self.report.message_id,
            "kind": self.report.kind,
            "ern_version": self.report.ern_version,
            "sender_dpid": self.report.sender_dpid,
            "message_errors": list(self.report.message_errors),
            "items": [i.to_dict() for i in self.items],
        }


@dataclass
class ImportSummary:
    files: list[FileImport] = field(default_factory=list)

    @property
    def items(self) -> list[ImportedItem]:
        return [i for f in self.files for i in f.items]

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(RESULTS, 0)
        for item in self.items:
            counts[item.result] += 1
        counts["files"] = len(self.files)
        counts["files_refused"] = sum(1 for f in self.files if f.refused)
        counts["in_review"] = sum(1 for i in self.items if i.status == "in_review" and i.result != "unchanged")
        return counts

    @property
    def ok(self) -> bool:
        return not any(f.refused for f in self.files) and not any(i.result == "rejected" for i in self.items)

    def to_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "counts": self.counts(), "files": [f.to_dict() for f in self.files]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    def to_csv(self) -> str:
        """One row per reason; accepted, updated and unchanged items have one row without reason."""
        out = io.StringIO()
        writer = csv_writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for f in self.files:
            for error in f.report.message_errors:
                writer.writerow([f.source, f.report.message_id, "", "", "", "message", "rejected", "", error])
            for i in f.items:
                for reason in i.reasons or ("",):
                    writer.writerow(
                        [i.source, i.message_id, i.reference, i.upc, i.title, i.action, i.result, i.status, reason]
                    )
        return out.getvalue()

    def write(self, directory: Path) -> tuple[Path, Path]:
        """`import-report.json` and `import-report.csv` in `directory`."""
        directory.mkdir(parents=True, exist_ok=True)
        json_path, csv_path = directory / "import-report.json", directory / "import-report.csv"
        json_path.write_text(self.to_json(), encoding="utf-8")
        csv_path.write_text(self.to_csv(), encoding="utf-8")
        return json_path, csv_path
