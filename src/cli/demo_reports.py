"""The demo's reports step: a streaming service's DSR and a download store's CSV for the month,
imported, matched and converted, so their lines appear in the month's statements (issue 20).

Idempotent: the files are written once per month under var/ (deterministic for the catalogue)
and importing the same bytes again changes nothing; mappings and the demo rate are recorded once.
One store line names a recording only by the store's own id, so the matching queue shows it.
"""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

from cli.context import actor, store_config
from cli.output import console, table
from ledger.application import RoyaltyLedger
from ledger.domain.money import format_micros
from ledger.domain.period import Period
from ledger.reports.commands import UnknownSource, current_mapping, rate_versions, set_mapping, set_rates
from ledger.reports.importer import import_report
from ledger.royalties import read_rights_history
from ledger.safe_csv import csv_writer
from ledger.usage.catalogue_cache import catalogue_view
from projections.statements.reports_queue import matching_queue

DSR_MAPPING = {"format": "dsr", "defaults": {"right_type": "master"}, "target_currency": "EUR"}
SHOP_MAPPING: dict[str, Any] = {
    "format": "csv",
    "columns": {
        "proprietary_id": "Vendor Identifier",
        "isrc": "ISRC",
        "upc": "UPC",
        "title": "Title",
        "territory": "Country Code",
        "units": "Quantity",
        "gross": "Customer Price",
        "net": "Partner Share",
        "currency": "Currency",
    },
    "defaults": {"right_type": "master"},
    "target_currency": "EUR",
}


def _mapping(app: RoyaltyLedger, source: str, mapping: dict[str, Any]) -> None:
    try:
        current_mapping(app, source)
    except UnknownSource:
        set_mapping(app, source, mapping, "demo", actor())


def _dsr(period: Period, isrcs: list[str]) -> str:
    """A Basic Audio Profile DSR: one summary per territory (EUR in FR and DE, USD in US)."""
    contexts = [("1", "FR", "EUR"), ("2", "DE", "EUR"), ("3", "US", "USD")]
    blocks: list[list[str]] = []
    sums = {sid: [0, 0, 0] for sid, _, _ in contexts}
    for block, isrc in enumerate(isrcs, start=1):
        blocks.append(["AS02.03", str(block), "1", f"WV-{block:04d}", isrc, f"Track {block}", "", "", "", "PT3M"])
        for n, (sid, _, currency) in enumerate(contexts):
            usages = 100 * block + 37 * n
            gross = usages * 4_000  # 0.004 a stream
            net = gross * 7 // 10
            blocks.append(
                [
                    "SU02.03",
                    str(block),
                    sid,
                    f"T{block}-{sid}",
                    "",
                    "1",
                    "true",
                    str(usages),
                    format_micros(gross),
                    format_micros(net),
                    currency,
                ]
            )
            sums[sid] = [sums[sid][0] + usages, sums[sid][1] + gross, sums[sid][2] + net]
    last = period.end - timedelta(days=1)
    head = [
        "HEAD",
        "dsrf/1.1.2/1.6/1.0",
        "BasicAudioProfile",
        "1.2",
        f"WAVE-{period}",
        f"{period.end:%Y-%m-%d}T02:00:00Z",
        "1",
        "1",
        f"{period.start:%Y-%m-%d}",
        f"{last:%Y-%m-%d}",
        "PADPIDA0000000001W",
        "Wavestream",
        "",
        "PADPIDA0000000002R",
        "Royalty Ledger co-operative",
    ]
    summaries = [
        [
            "SY02.03",
            sid,
            "Wavestream",
            "PADPIDA0000000001W",
            "SubscriptionModel",
            "OnDemandStream",
            territory,
            "Premium",
            str(sums[sid][0]),
            "",
            currency,
            format_micros(sums[sid][1]),
            format_micros(sums[sid][2]),
        ]
        for sid, territory, currency in contexts
    ]
    records = [head, *summaries, *blocks]
    records.append(
        ["FOOT", str(len(records) + 1), str(len(records) + 1), str(len(summaries)), str(len(isrcs)), str(len(isrcs))]
    )
    return "".join("\t".join(r) + "\n" for r in records)


def _shop(isrcs: list[str], upc: str) -> str:
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\n")
    writer.writerow(
        [
            "Vendor Identifier",
            "ISRC",
            "UPC",
            "Title",
            "Country Code",
            "Quantity",
            "Customer Price",
            "Partner Share",
            "Currency",
        ]
    )
    for n, isrc in enumerate(isrcs, start=1):
        writer.writerow(
            [
                f"SHOP-{n}",
                isrc,
                "",
                f"Track {n}",
                "GB" if n % 2 else "FR",
                n,
                f"{0.99 * n:.2f}",
                f"{0.693 * n:.3f}",
                "EUR",
            ]
        )
    writer.writerow(["SHOP-ALBUM", "", upc, "The album", "DE", 2, "17.98", "12.586", "EUR"])
    writer.writerow(["SHOP-9931", "", "", "A track only the shop knows", "FR", 3, "2.97", "2.079", "EUR"])
    writer.writerow(["SHOP-BAD", "NOT-AN-ISRC", "", "A broken line", "FR", 1, "0.99", "0.69", "EUR"])
    return out.getvalue()


def run(app: RoyaltyLedger, period: Period, as_json: bool) -> dict[str, Any]:
    _mapping(app, "wavestream", DSR_MAPPING)
    _mapping(app, "shop", {**SHOP_MAPPING, "defaults": {**SHOP_MAPPING["defaults"], "period": str(period)}})
    if not rate_versions(app):
        set_rates(
            app, {"USD/EUR": "0.9213"}, period.start - timedelta(days=365), "demo rate (not a market rate)", actor()
        )
    view = catalogue_view(app)
    isrcs = sorted(view.recordings)[:6]
    upc = sorted(view.release_tracks)[0]
    folder = Path("var")
    folder.mkdir(exist_ok=True)
    files = {"wavestream": folder / f"wavestream-{period}.tsv", "shop": folder / f"shop-{period}.csv"}
    if not files["wavestream"].exists():
        files["wavestream"].write_text(_dsr(period, isrcs), encoding="utf-8")
    if not files["shop"].exists():
        files["shop"].write_text(_shop(isrcs[:3], upc), encoding="utf-8")
    results = {
        source: import_report(app, path.read_bytes(), source=source, actor=actor(), file_name=path.name).to_dict()
        for source, path in files.items()
    }
    head = app.head_position()
    queue = matching_queue(store_config(), read_rights_history(app, head), head)
    doc = {"files": {s: str(p) for s, p in files.items()}, "imports": results, "queue": len(queue)}
    if not as_json:
        rows = [
            (
                s,
                r["report_id"][:8],
                r["lines"],
                r["quarantined_total"],
                ", ".join(f"{format_micros(t['net'])} {c}" for c, t in r["totals_micros"].items()),
                "already imported" if r["already_imported"] else f"position {r['position']}",
            )
            for s, r in results.items()
        ]
        console.print(
            table(f"sales reports for {period}", ["source", "report", "lines", "quarantined", "net", ""], rows)
        )
        console.print(f"matching queue: {len(queue)} identifier(s) in suspense (royalty reports queue)")
    return doc
