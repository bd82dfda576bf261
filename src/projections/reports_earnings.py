"""Imported sales reports in the live earnings read model (issue 20), exactly as statements cut them.

A report line's cell in `earn_gross_day` is (recording — or, unmatched, its identifier —,
currency, kind `RIGHT@SOURCE`, territory, source as the pricing model, the day its usage period
starts). Matching depends on the log at a position (links, registrations, deliveries) and a
correction supersedes a report, so a batch with any such event changes the cells by
cells(hi) − cells(lo − 1): both a function of the log, so any batching gives the same rows.
"""

from __future__ import annotations

from typing import Any

from ledger.domain.sales_report import SalesReport
from ledger.royalties.history import RightsHistory
from ledger.store.config import StoreConfig
from projections.db import ViewDB
from projections.readmodel import Batch
from projections.statements.reports import (
    _GROUPS,
    _TOPICS,
    ReportGroup,
    _query,
    expand_groups,
    read_identity,
    report_kind,
    superseded_filter,
)

DAY_US = 86_400_000_000
REPORT_TOPICS = frozenset({*_TOPICS.values(), f"{SalesReport.Imported.__module__}:{SalesReport.Imported.__qualname__}"})
Cell = tuple[str, str, str, str, str, int]  # isrc or unmatched key, currency, kind, territory, source, day


def report_cells(config: StoreConfig, history: RightsHistory, as_of: int) -> dict[Cell, list[int]]:
    """Every report line counted at `as_of`, matched as known then, summed by earnings cell."""
    query = _GROUPS.replace("{superseded}", superseded_filter(config, as_of))
    rows = _query(config, query, (as_of, -(1 << 62), 1 << 62))
    if not rows:
        return {}
    groups = [
        ReportGroup(r[0], r[1], r[2], r[3], int(r[4]), tuple(r[5:11]), int(r[11]), int(r[12]), int(r[13])) for r in rows
    ]
    identity = read_identity(config, max(history.upto, as_of))
    cells: dict[Cell, list[int]] = {}
    for g, isrc, _, micros in expand_groups(groups, identity, history, as_of):
        cell = (isrc, g.currency, report_kind(g.right, g.source), g.territory, g.source, g.at_us - g.at_us % DAY_US)
        found = cells.setdefault(cell, [0, 0])
        found[0] += g.units
        found[1] += micros
    return cells


def fold_report_cells(db: ViewDB, table: str, config: StoreConfig, history: RightsHistory, batch: Batch) -> set[Any]:
    """Apply the batch's change to the report cells of `table`; return the (recording, day) touched."""
    if not any(n.topic in REPORT_TOPICS for n in batch.notifications):
        return set()
    before = report_cells(config, history, batch.lo - 1)
    after = report_cells(config, history, batch.hi)
    rows = []
    for cell in before.keys() | after.keys():
        old, new = before.get(cell, [0, 0]), after.get(cell, [0, 0])
        if old != new:
            rows.append((*cell, new[0] - old[0], new[1] - old[1]))
    columns = ("isrc", "currency", "kind", "territory", "pricing_model", "day_us", "units", "gross_micros")
    db.add_rows(table, columns, 6, rows)
    return {(r[0], r[5]) for r in rows}
