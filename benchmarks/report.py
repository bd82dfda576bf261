"""One way to print a benchmark figure next to its same-run baseline."""

from __future__ import annotations

import json
import os
import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Figure:
    """A measured figure, the baseline it is compared with, and the target it must meet."""

    bench: str
    name: str
    value: float
    unit: str
    baseline_name: str = ""
    baseline_value: float | None = None
    target: str = ""

    @property
    def ratio(self) -> float | None:
        if not self.baseline_value:
            return None
        return self.value / self.baseline_value


def median_of(runs: int, fn: Callable[[], float]) -> float:
    """Median of `runs` measurements: these machines are shared and noisy."""
    return statistics.median(fn() for _ in range(runs))


def timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def peak_rss_mib() -> float:
    """Peak resident memory of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_rss_with_children_mib() -> float:
    """This process's peak plus the largest peak of the child processes it waited for (e.g. the
    SQLite usage writer): an upper bound of what the work held at once."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return peak_rss_mib() + children


def emit(fig: Figure) -> None:
    """Print one figure beside its baseline and append it to bench-out/results.jsonl."""
    ratio = f"{fig.ratio:8.2f}x" if fig.ratio is not None else " " * 9
    base = (
        f"{fig.baseline_value:>14,.1f} {fig.unit:<10} ({fig.baseline_name})" if fig.baseline_value is not None else ""
    )
    print(
        f"[{fig.bench}] {fig.name:<44} {fig.value:>14,.1f} {fig.unit:<10} {ratio}  {base}"
        + (f"  target: {fig.target}" if fig.target else ""),
        flush=True,
    )
    out = Path(os.environ.get("ROYALTY_BENCH_OUT", "bench-out"))
    out.mkdir(exist_ok=True)
    with (out / "results.jsonl").open("a") as fh:
        fh.write(json.dumps({**asdict(fig), "ratio": fig.ratio}) + "\n")
