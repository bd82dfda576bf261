"""Pictures of a series: a terminal chart (plotext) and a PNG (matplotlib, Agg backend).

Values stay integers (counts, or micro-units of one currency); money ticks are labelled with
`format_micros`, so no amount is ever turned into a float by this code.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

from ledger.domain.money import format_micros


def _tick(value: float, money: bool) -> str:
    return format_micros(round(value), 2) if money else f"{round(value):,}"


def terminal_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[int],
    *,
    money: bool = False,
    width: int | None = None,
    height: int = 20,
    color: bool = False,
) -> str:
    """The series as a bar chart in text, for a terminal."""
    import plotext as plt

    fig = plt.figure
    fig.clear()
    fig.theme("clear" if color else "colorless")
    fig.plot_size(width or min(120, shutil.get_terminal_size((100, 24)).columns), height)
    fig.title(title)
    positions = list(range(1, len(values) + 1))
    fig.draw(fig.bar(positions, list(values)))
    step = max(1, len(labels) // 6)
    fig.ruler(0).ticks(positions[::step], [labels[i - 1] for i in positions[::step]])
    low, high = min([0, *values]), max([0, *values])
    ticks = [low + (high - low) * i // 4 for i in range(5)] if high > low else [0]
    fig.ruler(1).ticks(ticks, [_tick(t, money) for t in ticks])
    return str(fig.build())


def png_chart(
    path: Path,
    title: str,
    labels: Sequence[str],
    values: Sequence[int],
    *,
    ylabel: str,
    money: bool = False,
) -> Path:
    """The series as a bar chart in a PNG file."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    fig, ax = plt.subplots(figsize=(10, 4.5), dpi=110)
    try:
        positions = list(range(len(values)))
        ax.bar(positions, list(values), color="#3b6ea5", width=0.8)
        step = max(1, len(labels) // 12)
        ax.set_xticks(positions[::step], [labels[i] for i in positions[::step]], rotation=30, ha="right", fontsize=8)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: _tick(v, money)))
        ax.set_title(title)
        ax.set_ylabel(ylabel)
        ax.grid(axis="y", alpha=0.3)
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path)
    finally:
        plt.close(fig)
    return path
