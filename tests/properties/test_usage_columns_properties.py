"""Hypothesis: a period's usage lines computed column-wise (usage_columns: segments by a sorted
merge, keys by number, largest remainder as integer matrices, lines in columns) are exactly the
lines of the per-key reference (compute.reference_usage_lines: one AllocationKey, one allocation
and one merge_line per part) — same lines, same figures, same versions (their order is no
contract: the per-key path's follows the groups' order, and every statement sorts) — and a
statement hashed from its columns (statement_columns) has the hash of the same statement built
line by line."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.domain.period import Period
from ledger.royalties import RightsHistory
from ledger.royalties.allocation import DisputeClaim, RightContext
from ledger.royalties.history import to_us
from ledger.royalties.timeline import Segment, SegmentContext
from projections.statements import usage, usage_columns
from projections.statements.compute import PeriodResult, reference_usage_lines
from projections.statements.statement import StatementEngine, build_statement, statement_hash, totals_of
from projections.statements.statement_columns import BuiltStatement, LazyStatement
from projections.statements.usage_columns import add_usage_lines

PERIOD = Period(2026, 1)
START, END = to_us(PERIOD.start), to_us(PERIOD.end)
AS_OF = 100

# Equal shares and tiny amounts make equal remainders common: the tie order is exercised.
SHARES = [
    (("a", 500_000), ("b", 500_000)),
    (("a", 333_334), ("b", 333_333), ("c", 333_333)),
    (("b", 250_000), ("c", 250_000), ("d", 250_000), ("e", 250_000)),
    (("a", 1_000_000),),
    (("c", 600_000), ("d", 400_000)),
    (("z", 142_857), ("y", 142_857), ("x", 714_286)),
]


@st.composite
def right_contexts(draw: st.DrawFn) -> RightContext:
    pick = draw(st.integers(0, 9))
    if pick == 0:
        return RightContext(None, suspense_reason="no-work")
    shares = draw(st.sampled_from(SHARES))
    claims: tuple[DisputeClaim, ...] = ()
    if pick == 1:  # an open dispute (escrow), or a resolved one (an escrow release: the per-key path)
        outcome = draw(st.sampled_from([None, "upheld", "partial"]))
        claims = (DisputeClaim("d1", "claimant", shares[0][0], 100_000, outcome, 50_000 if outcome else 0),)
    return RightContext(draw(st.integers(1, 3)), shares, claims)


@st.composite
def segment_contexts(draw: st.DrawFn) -> SegmentContext:
    pie = draw(st.sampled_from([(300_000, 560_000, 140_000), (333_334, 333_333, 333_333), (0, 1_000_000, 0)]))
    rules = draw(st.sampled_from([(("*:*", pie),), (("stream:*", pie),), ()]))
    availability = draw(st.sampled_from([(), (), (("takedown", ("DE",), "legal"),)]))
    return SegmentContext(draw(st.integers(1, 2)), rules, draw(right_contexts()), draw(right_contexts()), availability)


ISRCS = ["QZ1", "QZ2", 'Q"\\3', "Q\t4"]  # codes a canonical form must escape, too


@st.composite
def months(draw: st.DrawFn) -> tuple[dict[str, list[Segment]], pa.Table]:
    pool = draw(st.lists(segment_contexts(), min_size=1, max_size=3))  # few: equal contexts meet
    timelines = {}
    for isrc in ISRCS:
        cuts = sorted(draw(st.sets(st.integers(START + 1, END - 1), max_size=2)))
        starts = [START, *cuts]
        timelines[isrc] = [
            Segment(a, b, draw(st.sampled_from(pool))) for a, b in zip(starts, [*starts[1:], END], strict=True)
        ]
    rows = draw(
        st.lists(
            st.tuples(
                st.sampled_from(ISRCS),
                st.sampled_from(["stream", "download"]),
                st.sampled_from(["fixed_rate", "stream2own"]),
                st.sampled_from(["DE", "FR", "US"]),
                st.sampled_from(["EUR", "USD"]),
                st.integers(START, END - 1),
                st.integers(1, 5),
                st.one_of(st.integers(-3, 12), st.integers(-(10**13), 10**13)),
            ),
            max_size=40,
        )
    )
    columns: list[list[Any]] = [[r[i] for r in rows] for i in range(6)]
    columns += [[r[6] for r in rows], [r[7] for r in rows]]
    table = pa.table(
        [pa.array(c, type=f.type) for c, f in zip(columns, usage.GROUP_SCHEMA, strict=True)], schema=usage.GROUP_SCHEMA
    )
    return timelines, table


class _Reader:
    def __init__(self, table: pa.Table) -> None:
        self.table = table

    def groups(self, history: Any, period: Any, as_of: Any, coarse: Any) -> pa.Table:
        return self.table

    def refunds(self, period: Any, as_of: Any) -> list[Any]:
        return []


def _lines(result: PeriodResult) -> dict[str, dict[Any, Any]]:
    """Every account's lines as plain values."""
    return {account: dict(lines.items()) for account, lines in result.lines.items()}


def _both(monkeypatch: pytest.MonkeyPatch, month: Any) -> tuple[PeriodResult, PeriodResult]:
    timelines, table = month

    def timelines_for(history: Any, isrcs: Any, period: Any, as_of: Any) -> dict[str, list[Segment]]:
        return {i: timelines[i] for i in sorted(set(isrcs))}

    monkeypatch.setattr(usage, "timelines_for", timelines_for)
    monkeypatch.setattr(usage_columns, "timelines_for", timelines_for)
    history = RightsHistory()
    columns, reference = PeriodResult(PERIOD, AS_OF), PeriodResult(PERIOD, AS_OF)
    assert add_usage_lines(columns, None, history, PERIOD, AS_OF, None, _Reader(table))  # type: ignore[arg-type]
    reference_usage_lines(reference, None, history, PERIOD, AS_OF, None, _Reader(table))  # type: ignore[arg-type]
    return columns, reference


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(months())
def test_the_column_wise_lines_are_the_per_key_lines(monkeypatch, month):
    columns, reference = _both(monkeypatch, month)
    assert columns.gross == reference.gross and columns.units == reference.units
    assert _lines(columns) == _lines(reference)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(months())
def test_a_statement_hashed_from_columns_has_the_hash_of_its_lines(monkeypatch, month):
    columns, reference = _both(monkeypatch, month)
    engine, by_line = StatementEngine(None, RightsHistory()), StatementEngine(None, RightsHistory())  # type: ignore[arg-type]
    engine._memo[(PERIOD, AS_OF)] = columns
    by_line._memo[(PERIOD, AS_OF)] = reference
    for account in sorted(columns.lines):
        document = build_statement(engine, account, PERIOD, AS_OF, display=False)
        expected = build_statement(by_line, account, PERIOD, AS_OF, display=False)
        lazy = type(document) is LazyStatement
        digest, totals = statement_hash(document), totals_of(document)
        assert type(document) is (LazyStatement if lazy else dict)  # hashing did not build it
        assert digest == statement_hash(expected) and totals == totals_of(expected)
        assert document == expected  # built now, by the per-line code
        assert type(document) is (BuiltStatement if lazy else dict)
        assert statement_hash(document) == digest


def test_an_accounts_lines_are_hashed_in_line_key_order(monkeypatch):
    """Two lines of one account and recording whose pie ppm and share ppm sort opposite ways:
    the canonical records follow the line key (right ppm before share ppm)."""
    alone = SegmentContext(
        1,
        (("*:*", (300_000, 560_000, 140_000)),),
        RightContext(1, (("a", 1_000_000),)),
        RightContext(None, suspense_reason="no-work"),
    )
    shared = SegmentContext(
        2, (("*:*", (0, 1_000_000, 0)),), RightContext(2, SHARES[0]), RightContext(None, suspense_reason="no-work")
    )
    middle = START + (END - START) // 2
    timelines = {"QZ1": [Segment(START, middle, alone), Segment(middle, END, shared)]}
    rows = [
        ("QZ1", "stream", "fixed_rate", "FR", "EUR", START, 1, 1_000),
        ("QZ1", "stream", "fixed_rate", "FR", "EUR", middle, 1, 1_000),
    ]
    table = pa.table(
        [pa.array([r[i] for r in rows], f.type) for i, f in enumerate(usage.GROUP_SCHEMA)], schema=usage.GROUP_SCHEMA
    )
    columns, reference = _both(monkeypatch, (timelines, table))
    engine, by_line = StatementEngine(None, RightsHistory()), StatementEngine(None, RightsHistory())  # type: ignore[arg-type]
    engine._memo[(PERIOD, AS_OF)], by_line._memo[(PERIOD, AS_OF)] = columns, reference
    document = build_statement(engine, "party:a", PERIOD, AS_OF, display=False)
    assert type(document) is LazyStatement
    assert statement_hash(document) == statement_hash(build_statement(by_line, "party:a", PERIOD, AS_OF, display=False))
    assert [x["right_ppm"] for x in document["currencies"]["EUR"]["earnings"]] == [560_000, 1_000_000]


@given(st.lists(st.lists(st.integers(0, 6), min_size=5, max_size=5), min_size=2, max_size=4))
def test_rows_numbered_at_once_get_the_numbers_of_pairs_numbered_one_by_one(columns):
    """column_codes.combined's one sort (a mixed-radix number per row) ranks rows as chained pairs do."""
    import numpy as np

    from projections.statements.column_codes import combined, pairs

    arrays = [np.array(c, dtype=np.int64) for c in columns]
    chained = arrays[0]
    for more in arrays[1:]:
        chained = pairs(chained, more)
    assert combined(arrays).tolist() == chained.tolist()


@settings(max_examples=300)
@given(
    st.integers(0, 30).flatmap(
        lambda rows: st.lists(
            st.one_of(
                st.integers(0, 62).flatmap(  # keys of every magnitude: packs near int64's limit
                    lambda bits: st.lists(
                        st.one_of(st.integers(0, 2**bits), st.just(2**bits)), min_size=rows, max_size=rows
                    )
                ),
                st.lists(st.integers(-(2**40), 2**62), min_size=rows, max_size=rows),
            ),
            min_size=1,
            max_size=9,
        )
    )
)
def test_a_sort_by_packed_keys_is_the_sort_by_every_key(keys):
    """column_codes.lexsort_packed orders rows exactly as np.lexsort over the unpacked keys (ties
    kept in row order): statement lines are listed, and hashed, in this order."""
    import numpy as np

    from projections.statements.column_codes import lexsort_packed

    arrays = tuple(np.array(k, dtype=np.int64) for k in keys)
    assert lexsort_packed(arrays).tolist() == np.lexsort(arrays).tolist()
