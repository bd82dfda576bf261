"""The usage of a month as partitioned Parquet: what a statement engine off the database reads.

Layout (Hive-style, one folder per month, any pyarrow filesystem — a local folder or object
storage such as `s3://bucket/usage`):

    <root>/period=2026-01/pos-000000000000-000000001234.parquet
    <root>/period=2026-01/pos-000000001234-000000005678.parquet

A file holds the month's usage rows recorded at log positions in (lo, hi]. Usage is
append-only, so an archive grows by one more file per export and is never rewritten: exporting
"up to position N" writes only the rows recorded after the month's highest `hi`. Readers filter
`position <= as_of`, so one archive serves every as-of position up to its highest `hi`.

Only what a statement needs is exported: no listener reference, no usage id. A refund row
carries the key-deciding fields of the sale it refunds (recording, kind, pricing model,
territory, instant), joined here once, since its sale can lie in any earlier month.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from ledger.domain.period import Period
from ledger.royalties import period_bounds_us
from ledger.store.config import StoreConfig
from ledger.store.migrate import pg_conninfo
from ledger.usage.keys import sale_of_refund
from ledger.usage.positions import position_params, rows_between

ARCHIVE_SCHEMA = pa.schema(
    [
        ("position", pa.int64()),
        ("kind", pa.string()),
        ("occurred_at_us", pa.int64()),
        ("isrc", pa.string()),
        ("territory", pa.string()),
        ("currency", pa.string()),
        ("gross_micros", pa.int64()),
        ("pricing_model", pa.string()),
        ("counted", pa.bool_()),
        # A refund's sale (the refund's own fields when its sale is not stored); null otherwise.
        ("sale_isrc", pa.string()),
        ("sale_kind", pa.string()),
        ("sale_model", pa.string()),
        ("sale_territory", pa.string()),
        ("sale_at_us", pa.int64()),
    ]
)

ROW_GROUP = 262_144
_FILE = re.compile(r"^pos-(\d{12})-(\d{12})\.parquet$")

_COLUMNS = (
    "r.position, r.kind, r.occurred_at_us, r.isrc, r.territory, r.currency, r.gross_micros, r.pricing_model, r.counted"
)
_USAGE = (
    f"SELECT {_COLUMNS}, NULL, NULL, NULL, NULL, NULL FROM usage_rows r "
    "WHERE r.kind <> 'refund' AND {rows} "
    "AND r.occurred_at_us >= {p} AND r.occurred_at_us < {p}"
)
# The same join as the store engine's refund pre-sum (projections.statements.usage._REFUNDS).
_REFUNDS = (
    f"SELECT {_COLUMNS}, COALESCE(s.isrc, r.isrc), COALESCE(s.kind, r.kind), "
    "COALESCE(s.pricing_model, r.pricing_model), COALESCE(s.territory, r.territory), "
    "COALESCE(s.occurred_at_us, r.occurred_at_us) "
    "FROM usage_rows r {sale} "
    "WHERE r.kind = 'refund' AND {rows} "
    "AND r.occurred_at_us >= {p} AND r.occurred_at_us < {p}"
)


@dataclass(frozen=True)
class UsageArchive:
    """A usage archive at `root` (a local path or a URI pyarrow's filesystems know)."""

    root: str

    def _fs(self) -> tuple[pafs.FileSystem, str]:
        if "://" in self.root:
            return pafs.FileSystem.from_uri(self.root)  # type: ignore[no-any-return]
        return pafs.LocalFileSystem(), str(self.root)

    def check(self) -> None:
        """Refuse, with the reason, a location no filesystem here can reach (before any work)."""
        try:
            fs, base = self._fs()
            info = fs.get_file_info(base)
        except (pa.ArrowException, OSError) as exc:
            raise ValueError(f"usage archive {self.root!r} cannot be used: {exc}") from None
        if info.type == pafs.FileType.File:
            raise ValueError(f"usage archive {self.root!r} is a file; it must be a folder or a URI prefix")

    def month_uri(self, period: Period) -> str:
        return f"{self.root.rstrip('/')}/period={period}"

    def covered(self, period: Period) -> int:
        """The highest log position the month's files cover (0: none exported)."""
        fs, base = self._fs()
        selector = pafs.FileSelector(f"{base.rstrip('/')}/period={period}", allow_not_found=True)
        highest = 0
        for info in fs.get_file_info(selector):
            match = _FILE.match(info.base_name)
            if match:
                highest = max(highest, int(match.group(2)))
        return highest

    def export(self, config: StoreConfig, period: Period, upto: int) -> int:
        """Add the month's rows recorded in (covered, upto] as one file; return how many."""
        low = self.covered(period)
        if upto <= low:
            return 0
        start, end = period_bounds_us(period)
        fs, base = self._fs()
        folder = f"{base.rstrip('/')}/period={period}"
        fs.create_dir(folder, recursive=True)
        final = f"{folder}/pos-{low:012d}-{upto:012d}.parquet"
        partial = f"{folder}/.writing-{low:012d}-{upto:012d}.parquet"
        written = 0
        with pq.ParquetWriter(partial, ARCHIVE_SCHEMA, filesystem=fs, compression="zstd") as writer:
            for batch in _batches(config, (low, upto, start, end)):
                # Row groups of at most ROW_GROUP rows: a reader's unit of parallel work (a Spark
                # task reads whole row groups), so a month's one big file still spreads over cores.
                writer.write_batch(batch, row_group_size=ROW_GROUP)
                written += batch.num_rows
        # Readers see the file only once complete (a rename; on object storage, a copy).
        fs.move(partial, final)
        return written


def _batches(config: StoreConfig, params: tuple[int, int, int, int]) -> Iterator[pa.RecordBatch]:
    if config.backend == "sqlite":
        yield from _sqlite_batches(config, params)
    else:
        yield from _postgres_batches(config, params)


def _postgres_batches(config: StoreConfig, params: tuple[int, int, int, int]) -> Iterator[pa.RecordBatch]:
    # ADBC reads PostgreSQL's binary COPY straight into Arrow, in C: no Python object per value.
    import adbc_driver_postgresql.dbapi as adbc

    with adbc.connect(pg_conninfo(config)) as conn, conn.cursor() as cur:
        for query in (_USAGE, _REFUNDS):
            text = query.replace("{sale}", sale_of_refund("postgres"))
            cur.execute(
                _numbered(text.replace("{rows}", rows_between("postgres", "r.", after=True, mark="{p}"))), params
            )
            reader = cur.fetch_record_batch()
            for batch in reader:
                yield _conform(batch)


def _numbered(query: str) -> str:
    """`{p}` placeholders as PostgreSQL's $1, $2, … in order."""
    parts = query.split("{p}")
    return "".join(f"{part}${i}" if i < len(parts) else part for i, part in enumerate(parts, start=1))


def _sqlite_batches(config: StoreConfig, params: tuple[int, int, int, int]) -> Iterator[pa.RecordBatch]:
    assert config.sqlite_path is not None
    conn = sqlite3.connect(f"file:{config.sqlite_path}?mode=ro", uri=True, timeout=30)
    try:
        for query in (_USAGE, _REFUNDS):
            # The position range as the batches' rowid runs (migration 0046).
            span = rows_between("sqlite", "r.", after=True)
            low, upto, start, end = params
            cur = conn.execute(
                query.format(p="?", sale=sale_of_refund("sqlite"), rows=span),
                (*position_params("sqlite", low, upto), start, end),
            )
            while rows := cur.fetchmany(100_000):
                columns = list(zip(*rows, strict=True))
                arrays = [_sqlite_array(c, f.type) for c, f in zip(columns, ARCHIVE_SCHEMA, strict=True)]
                yield pa.RecordBatch.from_arrays(arrays, schema=ARCHIVE_SCHEMA)
    finally:
        conn.close()


def _sqlite_array(values: tuple[object, ...], type_: pa.DataType) -> pa.Array:
    if type_ == pa.bool_():  # SQLite stores booleans as 0/1
        return pa.array(values, type=pa.int8()).cast(pa.bool_())
    return pa.array(values, type=type_)


def _conform(batch: pa.RecordBatch) -> pa.RecordBatch:
    """The driver's batch under the archive's names and types (NULL columns come back untyped)."""
    arrays = [
        column if column.type == field.type else column.cast(field.type)
        for column, field in zip(batch.columns, ARCHIVE_SCHEMA, strict=True)
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=ARCHIVE_SCHEMA)


__all__ = ["ARCHIVE_SCHEMA", "UsageArchive"]
