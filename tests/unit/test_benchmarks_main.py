"""`python -m benchmarks NAME… --OPTION…`: the options reach the named benchmark (they were
taken for names and dropped, so `statements --plays 1000000 --no-spark` ran the 10 M default with
Spark), and an unknown name is an error, not an empty run."""

from __future__ import annotations

import sys
from typing import Any

import benchmarks.__main__ as runner
import pytest


def test_options_reach_the_named_benchmark_and_unknown_names_fail(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[list[str]] = []

    def call(argv: list[str], **_: Any) -> int:
        calls.append(argv)
        return 0

    monkeypatch.setattr(runner.subprocess, "call", call)  # no benchmark is run: only its command line
    assert runner.main(["statements", "--plays", "1000000", "--no-spark"]) == 0
    assert calls == [[sys.executable, "-m", "benchmarks.bench_statements", "--plays", "1000000", "--no-spark"]]
    calls.clear()
    assert runner.main(["statments"]) == 2
    assert calls == []
    assert "unknown benchmark(s): statments" in capsys.readouterr().err
    assert runner.main(["usage", "bench_pools"]) == 0
    assert [c[2] for c in calls] == ["benchmarks.bench_pools", "benchmarks.bench_usage"]
