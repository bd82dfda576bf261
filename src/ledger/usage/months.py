"""PostgreSQL's usage_rows by UTC month of occurred_at (migration 0047): a batch's months, their
partitions made on demand, and the check that keeps a usage id once across all of them.

PostgreSQL holds a unique index of a partitioned table only within each partition, so the key
indexes refuse a stored id only when it is re-sent in the same month. A re-sent id whose time
falls in another month is found in two steps, which together see every stored row:
- before the write, the batch's ids are looked up in the partitions of the months other than
  its own (`UsageStore.existing_payloads(…, outside=months)`), at a usage watermark read first
  (`looked_up_at`): rows at or below it were committed before the lookup began, so it saw them;
- under the log's write lock, the rows written since that watermark (few: the batch written
  while this one was prepared) are checked against the batch's ids (`check_other_months`). A
  batch never looked up (`looked_up_at` None: a fixture, a tool) is checked against every row
  of the other months, by their key indexes.
A stored id found either way makes the write fail with the key index's own error
(UniqueViolation): the caller looks every id up and prepares the batch again, as for a key
refused within a month.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from psycopg.errors import UniqueViolation

from ledger.usage.keys import key_of, key_range

_PARTITIONS = (
    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
    "WHERE i.inhparent = 'usage_rows'::regclass"
)


def months_of(occurred_at_us: pa.Array | pa.ChunkedArray | np.ndarray) -> list[str]:
    """The distinct UTC months ('YYYY-MM', sorted) of the instants (µs since the epoch)."""
    if isinstance(occurred_at_us, pa.Array | pa.ChunkedArray):
        occurred_at_us = pc.drop_null(occurred_at_us).to_numpy(zero_copy_only=False)
    values = np.asarray(occurred_at_us, dtype=np.int64)
    if not len(values):
        return []
    months = np.unique(values.astype("datetime64[us]").astype("datetime64[M]"))
    return [str(m) for m in months]


def month_bounds(month: str) -> tuple[int, int]:
    """[first µs of the month, first µs of the next), as the partition's bounds."""
    start = np.datetime64(month, "M")
    return int(start.astype("datetime64[us]").astype(np.int64)), int(
        (start + 1).astype("datetime64[us]").astype(np.int64)
    )


def inside(months: Sequence[str], alias: str = "") -> str:
    """SQL: the row's occurred_at_us is in one of `months` (literal bounds, so the planner keeps
    only their partitions)."""
    at = f"{alias}occurred_at_us"
    ranges = [f"({at} >= {lo} AND {at} < {hi})" for lo, hi in map(month_bounds, months)]
    return "(" + " OR ".join(ranges) + ")" if ranges else "false"


def outside(months: Sequence[str], alias: str = "") -> str:
    """SQL: the row's occurred_at_us is in none of `months` (the planner prunes their partitions)."""
    at = f"{alias}occurred_at_us"
    ranges = [f"({at} < {lo} OR {at} >= {hi})" for lo, hi in map(month_bounds, months)]
    return "(" + " AND ".join(ranges) + ")" if ranges else "true"


def stored_months(cursor: Any) -> set[str]:
    """The months that have a partition."""
    cursor.execute(_PARTITIONS)
    names = [r["relname"] if isinstance(r, dict) else r[0] for r in cursor.fetchall()]
    return {n[len("usage_rows_") :].replace("_", "-") for n in names if n.startswith("usage_rows_")}


def ensure_months(cursor: Any, months: Sequence[str], have: set[str]) -> None:
    """Make the partitions of `months` that are not in `have` (under the log's write lock)."""
    missing = [m for m in months if m not in have]
    if missing:
        cursor.execute("SELECT royalty_usage_month(m) FROM unnest(%s::text[]) AS m", (missing,))


def check_other_months(
    cursor: Any, position: int, months: Sequence[str], have: set[str], looked_up_at: int | None, watermark: int
) -> None:
    """Under the log's write lock, after the batch's rows (at `position`, in `months`) are in:
    refuse (UniqueViolation) when one of its ids is stored in another month and the lookup
    before the write could not have seen it (see the module's docstring). `watermark` is the
    usage watermark checked under this lock: no usage was written between it and `position`."""
    if not set(have) - set(months):
        return  # no other month holds rows
    own, other = inside(months, "n."), outside(months, "o.")
    params: tuple[int, ...]
    if looked_up_at is None:
        found = (
            "SELECT n.usage_id FROM usage_rows n CROSS JOIN LATERAL (SELECT 1 FROM usage_rows o "
            f"WHERE {key_of('o.')} BETWEEN {key_range('n.source', 'n.usage_id')} AND o.line_no = 0 "
            f"AND o.source = n.source AND o.usage_id = n.usage_id AND {other} LIMIT 1) AS x "
            f"WHERE n.position = %s AND n.line_no = 0 AND {own} LIMIT 1"
        )
        params = (position,)
    elif looked_up_at >= watermark:
        return  # the lookup saw every row stored before this batch
    else:
        # The rows written since the lookup (found by position's BRIN) hash-joined on the full id
        # to the batch's: tens of thousands on each side at most. Only a hash join is allowed here:
        # a fresh partition has no statistics, and a nested loop over two such sides (which the
        # planner chose, with LIMIT 1) compares every pair — minutes a batch.
        found = (
            "SELECT min(n.usage_id) AS usage_id FROM "
            f"(SELECT source, usage_id FROM usage_rows WHERE position = {int(position)} AND line_no = 0 "
            f"AND {inside(months)}) n "
            "JOIN (SELECT source, usage_id FROM usage_rows "
            f"WHERE position > {int(looked_up_at)} AND position < {int(position)} AND line_no = 0 "
            f"AND {outside(months)}) o "
            "ON o.source = n.source AND o.usage_id = n.usage_id"
        )
        params = ()
        cursor.execute("SET LOCAL enable_nestloop = off")
        cursor.execute("SET LOCAL enable_mergejoin = off")
    cursor.execute(found, params)
    row = cursor.fetchone()
    if looked_up_at is not None:
        cursor.execute("RESET enable_nestloop")
        cursor.execute("RESET enable_mergejoin")
    usage_id = None if row is None else row["usage_id"] if isinstance(row, dict) else row[0]
    if usage_id is not None:
        raise UniqueViolation(f"usage id {usage_id!r} is stored already, in another month")
