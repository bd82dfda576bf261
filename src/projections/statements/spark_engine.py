"""Statements beyond one machine: the usage pre-sums on Apache Spark, over the usage archive.

The statement computation has two stages. The first reads every play of the month and sums it
by what decides who is paid (recording, kind, pricing model, territory, currency, and the
instant only where the recording's rights change inside the month; refunds by the sale they
reverse). It is the stage that grows with the plays: 10 M plays become a few hundred thousand
groups. The second cuts the groups by rights segment and allocates every key by largest
remainder; it grows with the catalogue and runs where the rights history is (the driver).

`SparkUsage` runs the first stage on Spark over the month's usage exported to partitioned
Parquet (`UsageArchive`), with the very filters and buckets the store's SQL uses, so its sums —
and so every statement hash — are the store engine's. In tests Spark runs in local mode; in
production `--spark-master` (or ROYALTY_SPARK_MASTER) points at a cluster and the archive at
object storage every executor reads (docs/scaling.md).

pyspark is an optional dependency (`pip install 'royalty-ledger[spark]'`), imported only here.
"""

from __future__ import annotations

import os
import tempfile
import time
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ledger.domain.period import Period
from ledger.royalties import RightsHistory, period_bounds_us
from ledger.store.config import StoreConfig
from projections.statements.usage import GROUP_SCHEMA, RefundGroup, _fine_isrcs, _global_cuts
from projections.statements.usage_archive import ARCHIVE_SCHEMA, UsageArchive

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

DEFAULT_MASTER = "local[*]"


class SparkUnavailable(RuntimeError):
    """pyspark (or the Java it runs on) is not installed."""


def default_archive(config: StoreConfig) -> str:
    """ROYALTY_USAGE_ARCHIVE, else a folder beside the SQLite file, else ./var/usage-archive."""
    configured = os.environ.get("ROYALTY_USAGE_ARCHIVE")
    if configured:
        return configured
    if config.backend == "sqlite" and config.sqlite_path is not None:
        return str(config.sqlite_path.parent / "usage-archive")
    return str(Path("var") / "usage-archive")


_SESSIONS: dict[str, SparkSession] = {}


def spark_session(master: str | None = None) -> SparkSession:
    """One session per process and master (a JVM starts once; a cluster's driver connects once)."""
    master = master or os.environ.get("ROYALTY_SPARK_MASTER") or DEFAULT_MASTER
    found = _SESSIONS.get(master)
    if found is not None:
        return found
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise SparkUnavailable(
            "the spark engine needs pyspark: pip install 'royalty-ledger[spark]' (and Java 17 or newer)"
        ) from exc
    if master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # a local JVM listens on loopback only
    builder: Any = SparkSession.builder
    session: SparkSession = (
        builder.master(master)
        .appName("royalty-ledger statements")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.ansi.enabled", "true")  # an overflowing sum fails, never wraps
        .config("spark.sql.shuffle.partitions", os.environ.get("ROYALTY_SPARK_SHUFFLE_PARTITIONS", "8"))
        .config("spark.sql.warehouse.dir", tempfile.mkdtemp(prefix="royalty-spark-"))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    _SESSIONS[master] = session
    return session


class SparkUsage:
    """A `UsageReader` that exports the months it needs to the archive, then sums them on Spark."""

    def __init__(self, config: StoreConfig, archive: str | None = None, master: str | None = None) -> None:
        self.config = config
        self.archive = UsageArchive(archive or default_archive(config))
        self.master = master
        self.exported: dict[Period, int] = {}  # rows added to the archive by this engine, per month
        self.spark_seconds = 0.0  # wall time in Spark's sums (export excluded), for the benchmark

    def _month(self, period: Period, as_of: int) -> DataFrame:
        if self.archive.covered(period) < as_of:
            self.exported[period] = self.exported.get(period, 0) + self.archive.export(self.config, period, as_of)
        session = spark_session(self.master)
        return session.read.schema(_spark_schema()).parquet(self.archive.month_uri(period))

    def groups(self, history: RightsHistory, period: Period, as_of: int, coarse: Future[pa.Table] | None) -> pa.Table:
        from pyspark.sql import functions as F

        if coarse is not None:
            coarse.cancel()
        start, end = period_bounds_us(period)
        fine = _fine_isrcs(history, start, end, as_of)
        cuts = _global_cuts(history, start, end, as_of)
        month = self._month(period, as_of)  # starts the session: columns need one
        occurred = F.col("occurred_at_us")
        # The store's CASE, arm for arm (projections.statements.usage._at_expression).
        bucket: Column = F.lit(cuts[-1] if cuts else start).cast("long")
        for prev, cut in reversed(list(zip([start, *cuts[:-1]], cuts, strict=True)) if cuts else []):
            bucket = F.when(occurred < F.lit(cut), F.lit(prev).cast("long")).otherwise(bucket)
        at = F.when(F.col("isrc").isin(fine), occurred).otherwise(bucket) if fine else bucket
        started = time.perf_counter()
        rows = (
            month.where(
                (F.col("position") <= F.lit(as_of))
                & (occurred >= F.lit(start))
                & (occurred < F.lit(end))
                & (F.col("kind") != F.lit("refund"))
            )
            .groupBy("isrc", "kind", "pricing_model", "territory", "currency", at.alias("at_us"))
            .agg(
                F.count(F.lit(1)).cast("long").alias("units"),
                F.sum("gross_micros").cast("long").alias("gross_micros"),
            )
            .toArrow()
        )
        self.spark_seconds += time.perf_counter() - started
        return rows.select(GROUP_SCHEMA.names).cast(GROUP_SCHEMA)

    def refunds(self, period: Period, as_of: int) -> list[RefundGroup]:
        from pyspark.sql import functions as F

        start, end = period_bounds_us(period)
        month = self._month(period, as_of)
        occurred = F.col("occurred_at_us")
        started = time.perf_counter()
        rows = (
            month.where(
                (F.col("position") <= F.lit(as_of))
                & (occurred >= F.lit(start))
                & (occurred < F.lit(end))
                & (F.col("kind") == F.lit("refund"))
            )
            .groupBy("sale_isrc", "sale_kind", "sale_model", "sale_territory", "currency", "sale_at_us")
            .agg(F.count(F.lit(1)).cast("long").alias("units"), F.sum("gross_micros").cast("long").alias("gross"))
            .collect()
        )
        self.spark_seconds += time.perf_counter() - started
        return [
            RefundGroup(str(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4]), int(r[5]), int(r[6]), int(r[7]))
            for r in rows
        ]


def _spark_schema() -> Any:
    """The archive's Arrow schema as Spark's (read with it, never inferred)."""
    from pyspark.sql.types import BooleanType, LongType, StringType, StructField, StructType

    types = {pa.int64(): LongType(), pa.string(): StringType(), pa.bool_(): BooleanType()}
    return StructType([StructField(f.name, types[f.type], nullable=True) for f in ARCHIVE_SCHEMA])
