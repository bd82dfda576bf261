"""The binary COPY bytes built column-wise (ledger.usage.pg_copy) are what PostgreSQL reads back:
every type the usage table uses, with NULLs, extremes, negative amounts, non-ASCII text and empty
text, and a position written in after the bytes were built."""

from __future__ import annotations

from typing import Any

import psycopg
import pyarrow as pa
import pytest

from ledger.store.config import StoreConfig
from ledger.store.migrate import pg_conninfo
from ledger.usage.lines import hex_to_bytes
from ledger.usage.pg_copy import SIGNATURE, TRAILER, copy_body

TYPES = ["int8", "int8", "int4", "int2", "bool", "bytea", "text", "text"]
ROWS = [
    (0, -(2**63), 2**31 - 1, 32767, True, "00" * 32, "ünïcødé ✓", None),
    (0, 2**63 - 1, -(2**31), -32768, False, "ff" * 32, "", "x"),
    (0, None, None, None, None, "0123456789abcdef" * 4, None, "a" * 300),
]


@pytest.mark.postgres
@pytest.mark.parametrize("rows", [ROWS, ROWS[:2]], ids=["with NULLs", "fixed-width columns packed by numpy"])
def test_copy_bytes_built_in_bulk_read_back_as_the_values(pg_config: StoreConfig, rows: list[tuple[Any, ...]]) -> None:
    kinds = [pa.int64()] * 4 + [pa.bool_(), pa.string(), pa.string(), pa.string()]
    arrays = [pa.array(list(values), kind) for values, kind in zip(zip(*rows, strict=True), kinds, strict=True)]
    arrays[5] = hex_to_bytes(arrays[5])
    body = copy_body(arrays, TYPES)
    body.set_first_int8(1_234_567)  # the batch's position, known only once its event is written
    with psycopg.connect(pg_conninfo(pg_config)) as conn:
        conn.execute("CREATE TEMP TABLE t (p int8, a int8, b int4, c int2, d bool, h bytea, s text, r text)")
        with conn.cursor().copy("COPY t FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(SIGNATURE)
            copy.write(body.data.data)
            copy.write(TRAILER)
        back = conn.execute("SELECT p, a, b, c, d, encode(h, 'hex'), s, r FROM t ORDER BY a NULLS LAST").fetchall()
    expected = sorted(rows, key=lambda row: (row[1] is None, row[1] or 0))
    assert back == [(1_234_567, *row[1:]) for row in expected]


def test_an_integer_out_of_its_column_range_is_refused_not_wrapped() -> None:
    with pytest.raises(pa.ArrowInvalid):
        copy_body([pa.array([2**31], pa.int64())], ["int4"])
