"""Hypothesis: a report's stored line blocks are its canonical CSV, and read back as its lines.

Since migration 0034 the lines are kept only as blocks of their canonical CSV (LZ4-compressed
since 0035); `royalty audit verify` hashes the blocks and parses them to regroup the money. So
for any accepted lines — text with commas, quotes and non-ASCII, empty text beside null, amounts
at both ends of the range — the blocks joined must be byte for byte the whole CSV, decompress to
what was written, and parse back to exactly the same lines, micro-units included.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.reports import store
from tests.strategies import currencies, signed_amounts

texts = st.text(st.characters(min_codepoint=0x20, blacklist_categories=("Cs", "Cc")), max_size=10)
maybe_text = st.one_of(st.none(), texts, st.sampled_from(["", ",", '"', 'a "b", c']))
line = st.fixed_dictionaries(
    {
        "right_type": st.sampled_from(["master", "performance", "mechanical"]),
        "occurred_at_us": st.integers(0, 2**62),
        "territory": st.sampled_from(["FR", "US", "WW"]),
        "isrc": st.one_of(st.none(), st.just("FRZ031900001")),
        "upc": maybe_text,
        "iswc": st.none(),
        "grid": st.none(),
        "platform_id": maybe_text,
        "proprietary_id": maybe_text,
        "title": maybe_text,
        "artist": maybe_text,
        "units": st.integers(-(10**9), 10**9),
        "currency": currencies,
        "gross_micros": signed_amounts,
        "net_micros": signed_amounts,
        "amount_micros": signed_amounts,
    }
)


def _table(rows: list[dict[str, Any]], first_line_no: int) -> pa.Table:
    numbered = [{"line_no": first_line_no + i, **row} for i, row in enumerate(rows)]
    return pa.Table.from_pylist(numbered, schema=store.STORED_SCHEMA)


@pytest.fixture(scope="module")
def pool():
    with ThreadPoolExecutor(max_workers=3) as executor:
        yield executor


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(line, min_size=0, max_size=12), first=st.integers(1, 10**6), block=st.integers(1, 5))
def test_line_blocks_are_the_canonical_csv_and_parse_back_to_the_lines(pool, rows, first, block) -> None:
    lines = _table(rows, first)
    saved = store.BLOCK_LINES
    store.BLOCK_LINES = block  # not monkeypatch: a function-scoped fixture under @given is refused
    try:
        blocks, digest = store.line_blocks(lines, pool)
    finally:
        store.BLOCK_LINES = saved
    whole = store.lines_csv(lines)
    assert b"".join(b.csv for b in blocks) == whole
    assert digest == store.lines_digest(whole)
    assert [(b.first_line_no, b.line_count) for b in blocks] == [
        (first + i, min(block, len(rows) - i)) for i in range(0, len(rows), block)
    ]
    assert [store.unpack_block(b.packed, b.codec, len(b.csv)) for b in blocks] == [b.csv for b in blocks]
    assert store.parse_lines_csv(whole).to_pylist() == lines.to_pylist()
