"""A realistic usage generator for the demo and the benchmarks (deterministic for a seed).

Zipf-like popularity over the live catalogue, many listeners with repeat plays (so stream2own
steps up), several territories, short plays, some sales and tips, and on purpose a few exact
duplicates, late rows (last month's plays at the end of the file) and bad rows. Writes
Parquet, CSV or NDJSON. Like readers.py, a file adapter that uses pyarrow (and numpy).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ledger.domain.money import format_micros
from ledger.domain.party import DomainError
from ledger.domain.period import Period
from ledger.usage.catalogue_cache import catalogue_view
from ledger.usage.catalogue_view import CatalogueView
from ledger.usage.readers import detect_format
from ledger.usage.rows import datetime_to_us

if TYPE_CHECKING:
    from ledger.application import RoyaltyLedger

TERRITORIES = ["DE", "US", "GB", "FR", "NL", "SE", "JP", "BR", "ES", "CA"]
TERRITORY_WEIGHTS = [0.22, 0.2, 0.14, 0.1, 0.08, 0.07, 0.06, 0.05, 0.04, 0.04]
DAY_US = 86_400_000_000


@dataclass(frozen=True)
class GenerateOptions:
    plays: int
    period: Period
    seed: int = 1
    currency: str = "EUR"
    sale_share: float = 0.01
    short_share: float = 0.15
    duplicate_share: float = 0.001
    late_share: float = 0.005
    bad_share: float = 0.0005
    listeners: int | None = None  # default: one per 20 plays


def _zipf(n: int, s: float) -> np.ndarray:
    weights = 1.0 / np.arange(1, n + 1) ** s
    return weights / weights.sum()  # type: ignore[no-any-return]


def _catalogue_arrays(view: CatalogueView, period: Period) -> tuple[list[str], np.ndarray]:
    end = datetime_to_us(period.end)
    isrcs = sorted(i for i, first in view.first_release_us.items() if first < end)
    if not isrcs:
        raise DomainError(f"no recording is released before the end of {period}: deliver a release first")
    return isrcs, np.array([view.first_release_us[i] for i in isrcs], dtype=np.int64)


def generate_table(app: RoyaltyLedger, opts: GenerateOptions) -> pa.Table:
    """The generated rows as an Arrow table (occurred_at as UTC timestamps, money as micros)."""
    rng = np.random.default_rng(opts.seed)
    view = catalogue_view(app)
    isrcs, released = _catalogue_arrays(view, opts.period)
    now_us = datetime_to_us(app.clock())
    start, end = datetime_to_us(opts.period.start), min(datetime_to_us(opts.period.end), now_us)
    if end <= start:
        raise DomainError(f"{opts.period} has not started yet")
    n = opts.plays
    rank = rng.permutation(len(isrcs))
    rec = rank[rng.choice(len(isrcs), size=n, p=_zipf(len(isrcs), 1.1))]
    n_listeners = opts.listeners or max(20, n // 20)
    listener = rng.choice(n_listeners, size=n, p=_zipf(n_listeners, 0.9))
    lo = np.maximum(released[rec], start)
    at = lo + (rng.random(n) * np.maximum(end - lo, 1)).astype(np.int64)
    short = rng.random(n) < opts.short_share
    seconds = np.where(short, rng.integers(1, 45, n), rng.integers(45, 361, n)).astype(np.int32)
    territory = rng.choice(len(TERRITORIES), size=n, p=TERRITORY_WEIGHTS)
    cols = _base_columns(opts, rng, isrcs, rec, listener, at, seconds, territory, view)
    table = pa.table(cols).take(pa.array(np.argsort(at, kind="stable")))
    end_us = datetime_to_us(opts.period.end)
    extras = [_duplicates(table, rng, opts), _late(table, rng, opts, start), _bad(table, rng, opts, end_us)]
    return pa.concat_tables([table, *[e for e in extras if e.num_rows]])


def _base_columns(
    opts: GenerateOptions,
    rng: np.random.Generator,
    isrcs: list[str],
    rec: np.ndarray,
    listener: np.ndarray,
    at: np.ndarray,
    seconds: np.ndarray,
    territory: np.ndarray,
    view: CatalogueView,
) -> dict[str, pa.Array]:
    n = len(rec)
    sale = rng.random(n) < opts.sale_share
    sale_kind = rng.choice(3, size=n, p=[0.6, 0.25, 0.15])  # download, release purchase, tip
    kind = np.where(sale, np.array(["download", "purchase", "tip"])[sale_kind], "stream")
    isrc_arr = np.array(isrcs, dtype=object)[rec]
    upc_of = {i: view.releases_of[i][0] for i in isrcs}
    upc = np.array([upc_of[i] for i in isrc_arr], dtype=object)
    release_purchase = sale & (sale_kind == 1)
    amount = np.where(
        sale_kind == 0,
        rng.choice([990_000, 1_290_000, 1_990_000], n),
        np.where(sale_kind == 1, rng.integers(7, 13, n) * 1_000_000, rng.integers(1, 6, n) * 1_000_000),
    )
    ids = np.char.add(f"g{opts.seed}-{opts.period}-", np.arange(n).astype(str))
    return {
        "play_id": pa.array(ids, pa.string(), mask=sale),
        "sale_id": pa.array(ids, pa.string(), mask=~sale),
        "kind": pa.array(kind, pa.string()),
        "occurred_at": pa.array(at, pa.timestamp("us", tz="UTC")),
        "isrc": pa.array(isrc_arr, pa.string(), mask=release_purchase),
        "upc": pa.array(upc, pa.string(), mask=~release_purchase),
        "listener_id": pa.array(np.char.add("listener-", listener.astype(str)), pa.string()),
        "territory": pa.array(np.array(TERRITORIES)[territory], pa.string()),
        "seconds_played": pa.array(seconds, pa.int32(), mask=sale),
        "amount_micros": pa.array(amount, pa.int64(), mask=~sale),
        "currency": pa.array(np.full(n, opts.currency), pa.string(), mask=~sale),
    }


def _pick(table: pa.Table, rng: np.random.Generator, share: float) -> pa.Table:
    k = int(table.num_rows * share)
    return table.take(pa.array(np.sort(rng.choice(table.num_rows, size=k, replace=False))))


def _duplicates(table: pa.Table, rng: np.random.Generator, opts: GenerateOptions) -> pa.Table:
    """Exact copies of earlier rows: the same fact reported twice."""
    return _pick(table, rng, opts.duplicate_share)


def _late(table: pa.Table, rng: np.random.Generator, opts: GenerateOptions, start: int) -> pa.Table:
    """New plays from the last days of the previous month, arriving at the end of the file."""
    late = _pick(table, rng, opts.late_share)
    at = start - rng.integers(1, 3 * DAY_US, late.num_rows)
    late = late.set_column(3, "occurred_at", pa.array(at, pa.timestamp("us", tz="UTC")))
    for name in ("play_id", "sale_id"):
        late = late.set_column(
            late.schema.get_field_index(name), name, pc.binary_join_element_wise(late[name], "late", "-")
        )
    return late


def _bad(table: pa.Table, rng: np.random.Generator, opts: GenerateOptions, end_us: int) -> pa.Table:
    """Rows the ingest must quarantine, one kind of fault each, in turn."""
    bad = _pick(table, rng, opts.bad_share).to_pylist()
    faults = ["unknown_isrc", "future", "territory", "currency", "negative", "absurd", "payload"]
    for n, row in enumerate(bad):
        fault = faults[n % len(faults)]
        if fault != "payload":
            for key in ("play_id", "sale_id"):
                row[key] = row[key] and f"{row[key]}-bad"
        _break(row, fault, end_us)
    return pa.Table.from_pylist(bad, schema=table.schema)


def _break(row: dict[str, Any], fault: str, end_us: int) -> None:
    """One fault per row; "future" is ten years after the month, so the file is the same
    whatever day it is generated on."""
    sale = row["play_id"] is None
    if fault == "unknown_isrc":
        row["isrc"], row["upc"] = "USZZZ2699999", None
    elif fault == "future":
        row["occurred_at"] = end_us + 3650 * DAY_US
    elif fault == "territory":
        row["territory"] = "ZZ"
    elif fault == "payload":
        row["listener_id"] = "listener-someone-else"
    elif not sale:
        row["seconds_played"] = -5 if fault == "negative" else 10**7
    elif fault == "currency":
        row["currency"] = "ABC"
    else:
        row["amount_micros"] = -1_000_000 if fault == "negative" else 10**13


def write_table(table: pa.Table, out: Path) -> None:
    fmt = detect_format(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        pq.write_table(table, out, row_group_size=100_000)
        return
    text = table.set_column(3, "occurred_at", pc.strftime(table["occurred_at"], format="%Y-%m-%dT%H:%M:%SZ"))
    amounts = [None if v is None else format_micros(v) for v in text["amount_micros"].to_pylist()]
    text = text.drop_columns(["amount_micros"]).append_column("amount", pa.array(amounts, pa.string()))
    if fmt == "csv":
        pacsv.write_csv(text, out)
        return
    with out.open("w") as fh:
        for row in text.to_pylist():
            fh.write(json.dumps({k: v for k, v in row.items() if v is not None}) + "\n")


def generate_usage(app: RoyaltyLedger, opts: GenerateOptions, out: Path) -> dict[str, Any]:
    """Write generated usage to `out` (.parquet, .csv or .ndjson); returns what was written."""
    table = generate_table(app, opts)
    write_table(table, out)
    extra = int(table.num_rows - opts.plays)
    return {
        "out": str(out),
        "rows": table.num_rows,
        "generated": opts.plays,
        "extra_rows": extra,
        "period": str(opts.period),
        "seed": opts.seed,
    }
