"""Hypothesis: the column-wise canonical forms are byte for byte the row-by-row ones they replace.

The batch digest (UsageBatch.rows_sha256) and each row's payload SHA-256 are published, stored and
recomputed by `audit verify`; the ingest now builds them with Arrow over the whole batch. Each is
checked here against the row-by-row f-string form, which stays the reference (verify uses it on
stored rows).
"""

from __future__ import annotations

import hashlib
from typing import Any

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.usage.batch import payload_digests
from ledger.usage.digest import batch_digest, lines_text, rows_text
from ledger.usage.lines import LINE_COLUMNS, hex_to_bytes, line_rows, lines_from_rows
from ledger.usage.payload import recomputable, stored_payload_sha256, with_payloads
from ledger.usage.rows import RowBatch

# Ids as clients send them: any printable text, non-ASCII included (no control characters:
# normalising refuses those).
ids = st.text(st.characters(min_codepoint=0x20, blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12)
maybe = st.one_of(st.none(), ids)
big = st.integers(-(2**63), 2**63 - 1)
digests = st.binary(min_size=32, max_size=32).map(bytes.hex)

line = st.tuples(
    st.sampled_from(["player", "store", "ünï", "p"]) | ids,  # source
    st.sampled_from(["a", "ab", "a b", "ä", "a0"]) | ids,  # usage id: some are others' prefixes
    st.integers(0, 12),  # line number: 10 sorts before 2 as text
    st.sampled_from(["stream", "download", "purchase", "tip", "refund"]),
    big,  # occurred_at_us
    ids,  # isrc
    maybe,  # upc
    digests,  # listener hash
    st.sampled_from(["DE", "US"]),
    st.one_of(st.none(), st.integers(0, 86_400)),
    st.sampled_from(["EUR", "USD"]),
    big,  # gross micros
    st.sampled_from(["stream2own", "fixed_rate", "sale"]),
    st.integers(0, 2**31 - 1),
    st.one_of(st.none(), st.integers(1, 10_000)),
    st.booleans(),
    digests,  # payload
    maybe,  # refund_of
)


@settings(max_examples=200, deadline=None)
@given(st.lists(line, max_size=30, unique_by=lambda row: row[:3]))  # a batch holds each line once
def test_the_arrow_lines_text_is_the_row_by_row_text(lines: list[tuple[Any, ...]]) -> None:
    table = lines_from_rows(lines)
    assert bytes(lines_text(table)) == rows_text(lines)
    assert batch_digest(table, [], []) == batch_digest(lines, [], [])
    assert line_rows(table) == [(*row[:15], bool(row[15]), *row[16:]) for row in lines]


def test_a_known_batch_keeps_its_published_digest() -> None:
    """The canonical form did not change: a digest computed before the column-wise ingest."""
    lines = [
        ("player", "p2", 0, "stream", 1_790_000_000_000_000, "USAT21600001", None, "a" * 64, "DE", 60, "EUR",
         2000, "stream2own", 1, 1, True, "b" * 64, None),
        ("store", "s1", 10, "purchase", 1_790_000_000_000_001, "USAT21600002", "0602445790814", "c" * 64, "US",
         None, "USD", 333_334, "sale", 1, None, True, "d" * 64, None),
        ("store", "s1", 2, "purchase", 1_790_000_000_000_001, "USAT21600003", "0602445790814", "c" * 64, "US",
         None, "USD", 333_333, "sale", 1, None, True, "d" * 64, None),
    ]  # fmt: skip
    quarantined = [("q1", "store", "x", "e" * 64, "malformed", "bad", "{}")]
    # Both computed by the row-by-row digest of commit 5fe0a6f, before the column-wise ingest.
    assert (
        batch_digest(lines_from_rows(lines), [], [])
        == "7a759bdca82a38046f0b34c4236f4f51fcd1d4ce91543d558621037ecde8d39b"
    )
    assert (
        batch_digest(lines_from_rows(lines), quarantined, [("q0", "accepted")])
        == "3d141cb21a5b36d67624ffc3ee3b6b83a0e5d63b7d6deb16bff60e6173e43516"
    )


row = st.tuples(
    ids,  # source
    ids,  # usage id
    st.sampled_from(["stream", "download", "refund"]),
    big,  # occurred_at_us
    maybe,  # isrc
    maybe,  # upc
    digests,  # listener hash
    st.sampled_from(["DE", "US"]),
    st.one_of(st.none(), st.integers(0, 86_400)),
    st.one_of(st.none(), big),  # amount micros
    st.one_of(st.none(), st.sampled_from(["EUR", "USD"])),
    maybe,  # refund_of
    st.booleans(),  # the row has an error (no payload)
)


@settings(max_examples=200, deadline=None)
@given(st.lists(row, max_size=30))
def test_the_column_wise_payload_hashes_are_the_row_by_row_ones(rows: list[tuple[Any, ...]]) -> None:
    columns = list(zip(*rows, strict=True)) if rows else [()] * 13
    batch = RowBatch(
        source=list(columns[0]),
        usage_id=list(columns[1]),
        kind=list(columns[2]),
        occurred_at_us=list(columns[3]),
        isrc=list(columns[4]),
        upc=list(columns[5]),
        listener=list(columns[6]),
        territory=list(columns[7]),
        seconds_played=list(columns[8]),
        amount_micros=list(columns[9]),
        currency=list(columns[10]),
        refund_of=list(columns[11]),
        errors=[("malformed", "x") if bad else None for bad in columns[12]],
        raw=lambda i: {},
    )
    expected = [
        None
        if bad
        else hashlib.sha256(
            (
                f"{src}\x1f{uid}\x1f{kind}\x1f{occ}\x1f{isrc or ''}\x1f{upc or ''}\x1f{lh}\x1f{terr}"
                f"\x1f{'' if sec is None else sec}\x1f{'' if amt is None else amt}\x1f{cur or ''}"
                f"\x1f{ref or ''}"
            ).encode()
        ).hexdigest()
        for src, uid, kind, occ, isrc, upc, lh, terr, sec, amt, cur, ref, bad in rows
    ]
    hashes = pa.array(list(batch.listener), pa.string())
    assert payload_digests(batch, hashes, batch.errors).to_pylist() == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(line, max_size=30), st.lists(st.booleans(), min_size=30, max_size=30))
def test_the_stored_payload_rule_is_the_same_row_by_row_and_column_wise(
    lines: list[tuple[Any, ...]], own: list[bool]
) -> None:
    """SQLite stores NULL for a payload hash the rule recomputes (migration 0050): the writer's
    column-wise check and the readers' row-by-row recomputation agree on every line, and a line
    whose hash is anything else keeps it."""
    at = LINE_COLUMNS.index("payload_sha256")
    lines = [
        (*row[:at], stored_payload_sha256(row) if mine else row[at], *row[at + 1 :])
        for row, mine in zip(lines, own, strict=False)
    ]
    table = lines_from_rows(lines)
    found = recomputable(table, hex_to_bytes(table.column("payload_sha256")))
    assert found.tolist() == [stored_payload_sha256(row) == row[at] for row in lines]
    nulled = [(*row[:at], None, *row[at + 1 :]) if keep else row for row, keep in zip(lines, found, strict=True)]
    assert with_payloads(nulled) == [tuple(row) for row in lines]


def test_the_stored_payload_rule_gives_the_ingests_payload_hash_of_a_stream_and_a_tip() -> None:
    """The rule is the ingest's payload hash (ledger.usage.batch.payload_digests) of a stream sent
    with no amount and no currency, and of a tip sent with its amount and currency; a stream
    sent with an amount is not recomputable (the writer keeps its hash)."""
    listener = "a" * 64
    batch = RowBatch(
        source=["player", "store", "player"],
        usage_id=["p1", "t1", "p2"],
        kind=["stream", "tip", "stream"],
        occurred_at_us=[1_790_000_000_000_000, 1_790_000_000_000_001, 1_790_000_000_000_002],
        isrc=["USAT21600001", "USAT21600002", "USAT21600001"],
        upc=["0602445790814", None, None],
        listener=[listener] * 3,
        territory=["DE", "US", "DE"],
        seconds_played=[60, None, 50],
        amount_micros=[None, 2_500_000, 7],
        currency=[None, "USD", "EUR"],
        refund_of=[None, None, None],
        errors=[None, None, None],
        raw=lambda i: {},
    )
    sent = payload_digests(batch, pa.array([listener] * 3, pa.string()), batch.errors).to_pylist()
    stream = ("player", "p1", 0, "stream", 1_790_000_000_000_000, "USAT21600001", "0602445790814", listener, "DE",
              60, "EUR", 2000, "stream2own", 1, 1, True, sent[0], None)  # fmt: skip
    tip = ("store", "t1", 0, "tip", 1_790_000_000_000_001, "USAT21600002", None, listener, "US", None, "USD",
           2_500_000, "tip", 1, None, False, sent[1], None)  # fmt: skip
    paid = ("player", "p2", 0, "stream", 1_790_000_000_000_002, "USAT21600001", None, listener, "DE",
            50, "EUR", 2000, "stream2own", 1, 2, True, sent[2], None)  # fmt: skip
    assert [stored_payload_sha256(line) == line[16] for line in (stream, tip, paid)] == [True, True, False]
    table = lines_from_rows([stream, tip, paid])
    assert recomputable(table, hex_to_bytes(table.column("payload_sha256"))).tolist() == [True, True, False]
