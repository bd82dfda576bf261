"""Report lines checked column-wise: each bad line gets its specific reason and keeps its raw
values; the rest convert exactly (issue 20)."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from ledger.domain.party import DomainError
from ledger.reports.lines import check_lines, parse_period_start
from ledger.reports.mapping import validate_mapping
from ledger.reports.readers import UnreadableReport, read_delimited, read_dsr
from tests.reports_helpers import DSR_MAPPING, FIXTURES, STORE_MAPPING

NOW = parse_period_start("2026-02-10")
MAPPING = validate_mapping(STORE_MAPPING)
HEADER = (
    "Vendor Identifier,ISRC,UPC,Title,Artist,Country Code,Sales Month,Quantity,"
    "Customer Price,Partner Share,Currency,Right"
)
GOOD = "V1,USRC17607839,,One,A,FR,2026-01,1,1.00,0.70,EUR,master"


def rates(base: str, quote: str, at_us: int) -> tuple[str, str] | None:
    return ("0.5", "rates:1") if (base, quote) == ("USD", "EUR") else None


def check(*lines: str, mapping: dict = MAPPING, stated_rate: str | None = None):
    data = (HEADER + "\n" + "\n".join(lines) + "\n").encode()
    return check_lines(
        read_delimited(data, mapping).table, mapping, report_period="", now_us=NOW, rates=rates, stated_rate=stated_rate
    )


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("V1,USRC1760783,,One,A,FR,2026-01,1,1.00,0.70,EUR,master", "malformed_isrc"),
        (",,,One,A,FR,2026-01,1,1.00,0.70,EUR,master", "no_identifier"),
        ("V1,,1234567890129,One,A,FR,2026-01,1,1.00,0.70,EUR,master", "malformed_upc"),
        ("V1,USRC17607839,,One,A,FR,2026-01,1.5,1.00,0.70,EUR,master", "malformed_units"),
        ("V1,USRC17607839,,One,A,FR,2026-01,1,1e3,0.70,EUR,master", "malformed_gross"),
        ("V1,USRC17607839,,One,A,FR,2026-01,1,1.00,7E-1,EUR,master", "malformed_net"),
        ("V1,USRC17607839,,One,A,FR,2026-01,1,1.0000001,0.70,EUR,master", "malformed_gross"),
        ("V1,USRC17607839,,One,A,FR,2026-01,1,1.00,1.70,EUR,master", "net_outside_gross"),
        ("V1,USRC17607839,,One,A,FR,2026-01,1,2000000000,0.70,EUR,master", "absurd_amount"),
        ("V1,USRC17607839,,One,A,FR,2026-01,1,1.00,0.70,EUX,master", "unknown_currency"),
        ("V1,USRC17607839,,One,A,QQ,2026-01,1,1.00,0.70,EUR,master", "unknown_territory"),
        ("V1,USRC17607839,,One,A,FR,26-1,1,1.00,0.70,EUR,master", "malformed_period"),
        ("V1,USRC17607839,,One,A,FR,2026-03,1,1.00,0.70,EUR,master", "future_period"),
        ("V1,USRC17607839,,One,A,FR,2026-01,1,1.00,0.70,EUR,lyrics", "unknown_right_type"),
        ("V1,USRC17607839,,One,A,FR,2026-01,1,1.00,0.70,GBP,master", "no_exchange_rate"),
        ("V1,USRC17607839,,One,A,,2026-01,1,1.00,0.70,EUR,master", "missing_territory"),
        # Only an empty cell is empty: pyarrow's default null markers (N/A, #N/A, NULL, NaN…) are
        # text, so a net of "N/A" is not taken for an absent net (which would pay out the gross).
        ("V1,USRC17607839,,One,A,FR,2026-01,1,1.00,N/A,EUR,master", "malformed_net"),
        ("V1,USRC17607839,,One,A,FR,2026-01,1,1.00,#N/A,EUR,master", "malformed_net"),
        ("V1,USRC17607839,,One,A,FR,2026-01,1,NaN,0.70,EUR,master", "malformed_gross"),
        ("V1,USRC17607839,NULL,One,A,FR,2026-01,1,1.00,0.70,EUR,master", "malformed_upc"),
    ],
)
def test_a_bad_line_is_quarantined_with_its_reason_and_its_raw_values(line, reason):
    checked = check(GOOD, line)
    assert checked.lines.num_rows == 1
    assert [(q[0], q[1]) for q in checked.quarantine] == [(2, reason)]
    assert json.loads(checked.quarantine[0][3])["title"] == "One"


def test_good_lines_convert_at_the_configured_rate_rounded_once_per_group():
    # Three USD lines of 0.000001 net at 0.5: exact 1.5 µ → 1 µ in all, to the largest remainder
    # (all equal: the first line), sub-micro rest 1/2.
    line = "V1,USRC17607839,,One,A,US,2026-01,1,0.000001,0.000001,USD,master"
    checked = check(line, line, line)
    assert checked.lines.column("amount_micros").to_pylist() == [1, 0, 0]
    assert checked.conversions[0]["converted_micros"] == 1 and checked.conversions[0]["fx_rest"] == "1/2"
    assert checked.lines.column("target_currency").to_pylist() == ["EUR"] * 3


def test_a_stated_rate_wins_over_the_rate_source():
    checked = check("V1,USRC17607839,,One,A,US,2026-01,1,2.00,2.00,USD,master", stated_rate="0.9")
    assert checked.lines.column("amount_micros").to_pylist() == [1_800_000]
    assert checked.conversions[0]["origin"] == "stated"


def test_a_mapping_names_what_is_missing():
    with pytest.raises(DomainError, match="identifier column"):
        validate_mapping({"columns": {"units": "u", "gross": "g"}, "defaults": {}})
    with pytest.raises(DomainError, match="territory needs a column or a default"):
        validate_mapping({"columns": {"isrc": "i", "units": "u", "gross": "g", "currency": "c", "right_type": "r"}})
    with pytest.raises(DomainError, match="unknown field"):
        validate_mapping({"columns": {"isrc": "i", "colour": "c"}})


def test_a_csv_without_a_mapped_column_is_unreadable():
    with pytest.raises(UnreadableReport, match=r"missing column.*Customer Price"):
        read_delimited(b"Vendor Identifier,ISRC\nV1,USRC17607839\n", MAPPING)


def test_the_dsr_fixture_reads_as_four_lines_with_their_block_identifiers():
    table = read_dsr((FIXTURES / "wavestream-2026-01.tsv").read_bytes(), "wavestream").table
    rows = table.select(["isrc", "upc", "proprietary_id", "territory", "currency", "units", "net"]).to_pylist()
    assert rows == [
        {
            "isrc": "USRC17607839",
            "upc": None,
            "proprietary_id": "wavestream:WV-TRK-1",
            "territory": "FR",
            "currency": "EUR",
            "units": "1000",
            "net": "3.500000",
        },
        {
            "isrc": "USRC17607839",
            "upc": None,
            "proprietary_id": "wavestream:WV-TRK-1",
            "territory": "US",
            "currency": "USD",
            "units": "500",
            "net": "1.750000",
        },
        {
            "isrc": "GBAYE0000001",
            "upc": None,
            "proprietary_id": "wavestream:WV-TRK-9",
            "territory": "FR",
            "currency": "EUR",
            "units": "150",
            "net": "0.525000",
        },
        {
            "isrc": None,
            "upc": "3760000000000",
            "proprietary_id": "wavestream:WV-REL-77",
            "territory": "FR",
            "currency": "EUR",
            "units": "50",
            "net": "0.175000",
        },
    ]
    assert validate_mapping(DSR_MAPPING)["format"] == "dsr"


def test_an_unknown_dsr_record_is_a_quarantined_line_not_a_skipped_one():
    data = (FIXTURES / "wavestream-2026-01.tsv").read_bytes().replace(b"FOOT\t12", b"XX01.01\tstray\nFOOT\t13")
    table = read_dsr(data, "wavestream").table
    mapping = validate_mapping(DSR_MAPPING)
    checked = check_lines(table, mapping, report_period="2026-01", now_us=NOW, rates=rates)
    assert [q[1] for q in checked.quarantine] == ["unreadable_record"]
    assert "XX01.01" in checked.quarantine[0][2]
    assert isinstance(checked.lines, pa.Table) and checked.lines.num_rows == 4


def test_plain_decimals_read_as_exact_micro_units_at_both_ends_of_the_range():
    """The fast path reads micro-units from Arrow's 128-bit decimal storage: signs, the smallest
    unit and the largest accepted amount come out exact; one more micro-unit is absurd."""
    amounts = ["-0.000001", "-12.345678", "0", "0.000001", "999999999.999999", "1000000000.000000"]
    lines = [f"V1,USRC17607839,,One,A,FR,2026-01,1,{a},{a},EUR,master" for a in amounts]
    checked = check(*lines)
    assert checked.lines.column("gross_micros").to_pylist() == [
        -1,
        -12_345_678,
        0,
        1,
        999_999_999_999_999,
        1_000_000_000_000_000,
    ]
    assert checked.lines.column("net_micros").to_pylist() == checked.lines.column("gross_micros").to_pylist()
    too_big = check(GOOD, "V1,USRC17607839,,One,A,FR,2026-01,1,1000000000.000001,0.70,EUR,master")
    assert [(q[0], q[1]) for q in too_big.quarantine] == [(2, "absurd_amount")]
    beyond_64_bits = check(GOOD, "V1,USRC17607839,,One,A,FR,2026-01,1,99999999999999.5,0.70,EUR,master")
    assert [(q[0], q[1]) for q in beyond_64_bits.quarantine] == [(2, "absurd_amount")]


def test_the_canonical_csv_in_blocks_written_side_by_side_is_the_whole_csv_and_reads_back(monkeypatch):
    """Quoted text (a comma, a quote), nulls and a line count the blocks do not divide: the blocks
    joined are byte for byte the CSV written in one piece, each says its first line and count,
    and parsing the CSV gives the lines back exactly (what the audit regroups)."""
    from concurrent.futures import ThreadPoolExecutor

    from ledger.reports import store

    lines = [GOOD.replace("V1", f"V{i}").replace(",One,", f',"One, {i} ""live""",') for i in range(7)]
    lines.append("V9,,3760000000000,,,FR,2026-01,1,1.00,0.70,EUR,master")  # no ISRC, no title
    checked = check(*lines)
    assert checked.lines.num_rows == 8 and not checked.quarantine
    monkeypatch.setattr(store, "BLOCK_LINES", 3)
    with ThreadPoolExecutor(max_workers=3) as pool:
        blocks, digest = store.line_blocks(checked.lines, pool)
    whole = store.lines_csv(checked.lines)
    assert [(b.first_line_no, b.line_count) for b in blocks] == [(1, 3), (4, 3), (7, 2)]
    assert b"".join(b.csv for b in blocks) == whole and b'"One, 3 ""live"""' in whole
    assert digest == store.lines_digest([b.csv for b in blocks]) == store.lines_digest(whole)
    assert store.parse_lines_csv(whole).equals(checked.lines.select(list(store.LINE_COLUMNS)))
    assert [store.unpack_block(b.packed, b.codec, len(b.csv)) for b in blocks] == [b.csv for b in blocks]
    assert blocks[0].codec == "lz4_frame" and blocks[0].packed[:4] == bytes.fromhex("04224d18")  # LZ4 frame magic
    with pytest.raises(ValueError, match=r"decompresses to|do not decompress"):
        store.unpack_block(blocks[0].packed, "lz4_frame", len(blocks[0].csv) + 1)


def test_cells_are_trimmed_of_ascii_and_unicode_whitespace_and_a_blank_one_is_missing():
    nbsp, em = "\u00a0", "\u2003"
    checked = check(
        f"V1, USRC17607839 ,,One,A,{nbsp}FR{em},2026-01,\t2,1.00 , 0.70,EUR,master",
        "V2,USRC17607839,,One,A,FR,2026-01,1,1.00,0.70,EUR,master",
        "V3,USRC17607839,,One,A,FR,2026-01,  ,1.00,0.70,EUR,master",
        '"V4","USRC17607839",,One,A,FR,2026-01,"",1.00,0.70,EUR,master',
    )
    rows = checked.lines.select(["line_no", "isrc", "territory", "units", "gross_micros"]).to_pylist()
    assert rows == [
        {"line_no": 1, "isrc": "USRC17607839", "territory": "FR", "units": 2, "gross_micros": 1_000_000},
        {"line_no": 2, "isrc": "USRC17607839", "territory": "FR", "units": 1, "gross_micros": 1_000_000},
    ]
    assert [(n, reason) for n, reason, _, _ in checked.quarantine] == [(3, "missing_units"), (4, "missing_units")]


def test_an_empty_quoted_cell_in_an_otherwise_plain_column_is_missing():
    """The column has no whitespace at all, so it is not trimmed: its empty value is still seen."""
    checked = check(GOOD, '"V2","USRC17607839",,One,A,FR,2026-01,"",1.00,0.70,EUR,master')
    assert [(n, reason) for n, reason, _, _ in checked.quarantine] == [(2, "missing_units")]
