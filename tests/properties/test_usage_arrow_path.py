"""Hypothesis: a file's columns kept as Arrow end to end give the batch the row-by-row path gives.

Parquet and CSV batches are normalised column-wise and stay Arrow columns (ledger.usage.rows
ArrowColumn) through checks, hashing and pricing; rows given as dicts (NDJSON, the API, quarantine
retries) are Python lists. Both must give the same values and the same first error per row, and
the run's stream2own memory (run-local pair numbers, counts in sorted numpy arrays) must behave
as the dict it replaced.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.usage.arrow_columns import normalise_arrow
from ledger.usage.listener import ListenerHasher
from ledger.usage.memory import PlayCounts, RunMemory
from ledger.usage.rows import normalise_dicts

COLUMNS = ("source", "play_id", "kind", "occurred_at", "isrc", "upc", "listener_id", "territory",
           "seconds_played", "amount_micros", "currency", "refund_of")  # fmt: skip
NAMES = ("source", "usage_id", "kind", "occurred_at_us", "isrc", "upc", "listener", "territory",
         "seconds_played", "amount_micros", "currency", "refund_of")  # fmt: skip

text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=6)
row = st.fixed_dictionaries(
    {
        "source": st.sampled_from([None, "player", "store"]),
        "play_id": st.one_of(st.none(), st.sampled_from(["p1", "p2", "p3"]), text),
        "kind": st.sampled_from([None, "stream", "download", "purchase", "tip", "refund", "bogus"]),
        "occurred_at": st.one_of(
            st.none(),
            st.datetimes(datetime(2020, 1, 1), datetime(2030, 1, 1)).map(lambda d: d.replace(tzinfo=UTC)),
        ),
        "isrc": st.sampled_from([None, "USAT21600001", "usat21600002", "NOTANISRC", "US-AT2-16-00003"]),
        "upc": st.sampled_from([None, "0602445790814", "123"]),
        "listener_id": st.one_of(st.none(), st.sampled_from(["fan", "other"]), text),
        "territory": st.sampled_from([None, "DE", "us", "XX", "ZZZ"]),
        "seconds_played": st.one_of(st.none(), st.integers(-5, 100_000)),
        "amount_micros": st.one_of(st.none(), st.integers(-(10**12), 10**12)),
        "currency": st.sampled_from([None, "EUR", "usd", "XYZ1"]),
        "refund_of": st.one_of(st.none(), st.sampled_from(["p1", "s9"])),
    }
)
TYPES = {"occurred_at": pa.timestamp("us", tz="UTC"), "seconds_played": pa.int64(), "amount_micros": pa.int64()}


@settings(max_examples=150, deadline=None)
@given(st.lists(row, min_size=1, max_size=25))
def test_arrow_columns_normalise_as_the_row_by_row_path_does(rows: list[dict[str, Any]]) -> None:
    table = pa.table({c: pa.array([r[c] for r in rows], TYPES.get(c, pa.string())) for c in COLUMNS})
    arrow = normalise_arrow(table, "player", ("", 0))
    lists = normalise_dicts([{k: v for k, v in r.items() if v is not None} for r in rows], "player")
    for name in NAMES:
        assert list(getattr(arrow, name)) == list(getattr(lists, name)), name
        assert arrow.arrow(name).to_pylist() == lists.arrow(name).to_pylist(), name
    assert arrow.errors == lists.errors
    # Rows read one at a time (the row-by-row checks) see the same values.
    arrow = normalise_arrow(table, "player", ("", 0))
    arrow.gather([0])
    assert [getattr(arrow, name)[len(rows) - 1] for name in NAMES] == [getattr(lists, name)[-1] for name in NAMES]


pair = st.tuples(st.sampled_from(["a" * 64, "b" * 64, "c" * 64]), st.sampled_from(["X1", "X2", "Y3"]))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.tuples(pair, st.integers(0, 50)), max_size=12), max_size=6))
def test_the_run_memory_counts_pairs_as_a_dict_would(batches: list[list[tuple[tuple[str, str], int]]]) -> None:
    memory, expected = RunMemory(), dict[tuple[str, str], int]()
    for batch in batches:
        if not batch:
            continue
        numbers = memory.pair_numbers(pa.array([p[0] for p, _ in batch]), pa.array([p[1] for p, _ in batch]))
        # One number per pair, the same in every batch, different for different pairs.
        named = dict(zip([p for p, _ in batch], numbers.tolist(), strict=True))
        assert len(set(named.values())) == len(named)
        unique = np.unique(numbers)
        latest: dict[int, tuple[tuple[str, str], int]] = {}
        for (p, count), number in zip(batch, numbers.tolist(), strict=True):
            latest[number] = (p, count)
        found, counts = memory.play_counts.find(unique)
        for number, was_found, count in zip(unique.tolist(), found.tolist(), counts.tolist(), strict=True):
            p = latest[number][0]
            assert was_found == (p in expected)
            assert count == expected.get(p, 0)
        memory.remember({}, PlayCounts(unique, np.array([latest[n][1] for n in unique.tolist()], dtype=np.int64)))
        expected.update({p: c for p, c in latest.values()})
    assert len(memory.play_counts) == len(expected)
    assert np.all(np.diff(memory.play_counts.pairs) > 0)


def test_a_missing_listener_or_recording_has_no_pair_number() -> None:
    numbers = RunMemory().pair_numbers(pa.array(["a" * 64, None, "a" * 64]), pa.array(["X1", "X1", None]))
    assert numbers[0] >= 0 and numbers[1] == -1 and numbers[2] == -1


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=16, max_size=200), st.text(min_size=1, max_size=40))
def test_the_listener_hash_is_hmac_sha256_of_the_id(secret: bytes, listener: str) -> None:
    """Its keyed states are precomputed (keys longer than a block hashed first, as RFC 2104 says):
    the values must stay those of hmac.new, which every stored listener hash was made with."""
    hasher = ListenerHasher(secret)
    expected = hmac.new(secret, listener.encode(), hashlib.sha256).hexdigest()
    assert hasher(listener) == expected
    assert hasher(listener) == expected  # from its cache
