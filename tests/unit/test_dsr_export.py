"""The DDEX DSR flat file of a statement: read back, its totals are the statement's to the micro-unit."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ledger.domain.period import Period
from projections.statements.dsr import (
    DsrDetails,
    DsrError,
    DsrParties,
    DsrRecording,
    DsrRelease,
    read_dsr,
    write_statement_dsr,
)

PERIOD = Period.parse("2026-01")
CREATED = datetime(2026, 2, 1, 6, 0, tzinfo=UTC)


def line(isrc: str, kind: str, territory: str, units: int, gross: int, amount: int, **extra: Any) -> dict[str, Any]:
    return {
        "isrc": isrc,
        "kind": kind,
        "territory": territory,
        "right": "master",
        "right_ppm": 700_000,
        "share_ppm": 400_000,
        "units": units,
        "gross_micros": gross,
        "amount_micros": amount,
        **extra,
    }


def section(earnings: list[dict[str, Any]], escrow: list[dict[str, Any]], adjustments: list[dict[str, Any]]) -> dict:
    totals = {
        "earnings_micros": sum(x["amount_micros"] for x in earnings),
        "escrow_release_micros": sum(x["amount_micros"] for x in escrow),
        "adjustment_micros": sum(x["amount_micros"] for x in adjustments),
    }
    return {"earnings": earnings, "escrow_releases": escrow, "adjustments": adjustments, **totals}


STATEMENT = {
    "account": "party:harbour-records",
    "period": "2026-01",
    "as_of_position": 4321,
    "currencies": {
        "EUR": section(
            [
                line("GBHRB2500001", "stream", "DE", 1_234, 2_468_001, 691_041),
                line("GBHRB2500001", "stream", "FR", 3, 6_003, 1_681),
                line("GBHRB2500002", "purchase", "DE", 1, 9_990_000, 2_797_199),
            ],
            [line("GBHRB2500002", "purchase", "DE", 0, 0, 333_333)],
            [line("GBHRB2500001", "stream", "DE", 2, 4_000, -1, original_period="2025-12")],
        ),
        "USD": section([line("GBHRB2500001", "tip", "US", 1, 1, 1)], [], []),
    },
}
CATALOGUE = {
    "GBHRB2500001": DsrRecording(
        "GBHRB2500001",
        "Lighthouse",
        "Mara Quinn",
        205_500,
        (DsrRelease("5012345678900", "5012345678900", "Lighthouse", "Mara Quinn"),),
    )
}
DETAILS = DsrDetails(
    DsrParties("Co-op Music", "harbour-records", "Harbour Records", recipient_dpid="PADPIDA2019052201L")
)


def write(tmp_path: Path) -> Path:
    path = tmp_path / "report.tsv"
    write_statement_dsr(STATEMENT, PERIOD, path, DsrDetails(DETAILS.parties, CATALOGUE), CREATED)
    return path


def test_the_report_read_back_adds_up_to_the_statement_exactly(tmp_path: Path) -> None:
    totals = read_dsr(write(tmp_path))
    for currency, sec in STATEMENT["currencies"].items():  # type: ignore[attr-defined]
        expected = sec["earnings_micros"] + sec["escrow_release_micros"] + sec["adjustment_micros"]
        assert totals.amount_micros[currency] == expected
    assert totals.amount_micros == {"EUR": 3_823_253, "USD": 1}
    assert totals.gross_micros == {"EUR": 12_468_004, "USD": 1}
    assert totals.units == {"EUR": 1_240, "USD": 1}
    assert (totals.blocks, totals.summaries, totals.releases) == (2, 4, 1)


def test_records_follow_the_basic_audio_profile_in_order(tmp_path: Path) -> None:
    records = [r.split("\t") for r in write(tmp_path).read_text().splitlines()]
    kinds = [r[0] for r in records]
    assert kinds[0] == "HEAD" and kinds[-1] == "FOOT"
    assert kinds[1:5] == ["SY01.03"] * 4
    assert kinds[5:] == ["RE01.03", "AS01.03", "SU01.03", "SU01.03", "SU01.03", "SU01.03",
                         "AS01.03", "SU01.03", "SU01.03", "FOOT"]  # fmt: skip
    head = records[0]
    assert head[1:4] == ["dsrf/1.1.2/1.6/1.0", "BasicAudioProfile", "1.2"]
    assert head[5:10] == ["2026-02-01T06:00:00Z", "1", "1", "2026-01-01", "2026-01-31"]
    assert head[13:15] == ["PADPIDA2019052201L", "Harbour Records"]
    stream_de = next(r for r in records if r[0] == "SY01.03" and r[6] == "DE" and r[7] == "stream")
    assert stream_de[4:6] == ["PayAsYouGoModel", "OnDemandStream"]
    assert stream_de[8:13] == ["1236", "", "EUR", "2.472001", "0.691040"]  # the adjustment's -1 micro-unit
    adjustment = next(r for r in records if r[0] == "SU01.03" and r[3].startswith("adjustments:"))
    assert adjustment[3] == "adjustments:2025-12:3" and adjustment[9] == "-0.000001"
    assert records[-1] == ["FOOT", str(len(records)), str(len(records)), "4", "2", "2"]


def test_a_tampered_amount_or_count_is_caught_on_reading(tmp_path: Path) -> None:
    path = write(tmp_path)
    text = path.read_text()
    path.write_text(text.replace("\t2.797199\t", "\t2.797200\t", 1))
    with pytest.raises(DsrError, match="differ from the sum"):
        read_dsr(path)
    lines = text.splitlines()
    assert lines[-1].startswith(f"FOOT\t{len(lines)}\t")
    path.write_text("\n".join([*lines[:-1], lines[-1].replace(f"FOOT\t{len(lines)}", f"FOOT\t{len(lines) + 1}")]))
    with pytest.raises(DsrError, match="FOOT"):
        read_dsr(path)
