"""The dashboard's server-drawn charts: labels escaped, slices that add up, empty charts said so."""

from __future__ import annotations

import re

from api.dashboard.charts import Slice, bars, pie


def test_labels_are_escaped_in_bars_and_pies() -> None:
    hostile = Slice('<script>alert("x")</script>', 5, "5 <b>")
    for svg in (bars("t", [hostile]), pie("t", [hostile, Slice("b", 1, "1")])):
        assert "<script>" not in svg and "&lt;script&gt;" in svg
        assert "<b>" not in svg


def test_a_pie_keeps_the_largest_slices_and_groups_the_rest_as_other() -> None:
    slices = [Slice(f"s{n}", 10 - n, "") for n in range(9)]
    svg = pie("t", slices, keep=3)
    assert svg.count("<path") == 4 and "other" in svg
    shares = [int(a) * 10 + int(b) for a, b in re.findall(r"(\d+)\.(\d) %", svg)]
    assert 995 <= sum(shares) <= 1000  # per-mille, each rounded down


def test_empty_and_negative_series_say_nothing_yet() -> None:
    assert "nothing yet" in bars("Earnings", [])
    assert "nothing yet" in pie("Earnings", [Slice("refunds", -5, "")])
