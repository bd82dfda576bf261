"""Grouping usage by rights segment: the Python join for small periods gives exactly what the
DuckDB ASOF join gives for large ones."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.royalties.allocation import RightContext
from ledger.royalties.timeline import Segment, SegmentContext
from projections.statements import usage

START, END = 1_000, 10_000
CTX = SegmentContext(1, (), RightContext(1), RightContext(None))

groups = st.lists(
    st.tuples(
        st.sampled_from(["A", "B"]),
        st.sampled_from(["stream", "download"]),
        st.sampled_from(["DE", "FR"]),
        st.integers(START, END - 1),
        st.integers(1, 5),
        st.integers(-10, 1_000),
    ),
    max_size=40,
)


@settings(max_examples=15, deadline=None)
@given(groups, st.lists(st.integers(START + 1, END - 1), max_size=4, unique=True))
def test_the_small_join_equals_duckdbs(rows, cuts):
    starts = [START, *sorted(cuts)]
    timelines = {
        isrc: [Segment(a, b, CTX) for a, b in zip(starts, [*starts[1:], END], strict=True)] for isrc in ("A", "B")
    }
    table = pa.table(
        [
            pa.array([r[0] for r in rows], pa.string()),
            pa.array([r[1] for r in rows], pa.string()),
            pa.array(["m"] * len(rows), pa.string()),
            pa.array([r[2] for r in rows], pa.string()),
            pa.array(["EUR"] * len(rows), pa.string()),
            pa.array([r[3] for r in rows], pa.int64()),
            pa.array([r[4] for r in rows], pa.int64()),
            pa.array([r[5] for r in rows], pa.int64()),
        ],
        schema=usage.GROUP_SCHEMA,
    )
    small = usage.group_by_key(table, timelines)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(usage, "SMALL_GROUPS", -1)
        large = usage.group_by_key(table, timelines)
    assert small == large
