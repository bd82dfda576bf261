"""The pools comparison as a chart: grouped bars (one group per account, one bar per rule), in a
terminal (plotext) and as a PNG (matplotlib, Agg). Amounts stay integer micro-units; ticks are
labelled with `format_micros`."""

from __future__ import annotations

import shutil
from pathlib import Path

from ledger.domain.money import format_micros
from projections.pools_compare import Comparison

_COLOURS = ["#3b6ea5", "#d9822b", "#4c9a5a", "#9b59b6", "#888888"]


def _series(comparison: Comparison, currency: str, limit: int = 12) -> tuple[list[str], dict[str, list[int]]]:
    """The accounts with the most money under any rule (at most `limit`), and each rule's amounts."""
    rows = [(a, per[currency]) for a, per in comparison.accounts.items() if currency in per]
    rows.sort(key=lambda item: (-max(abs(v) for v in item[1].values()), item[0]))
    rows = rows[:limit]
    labels = [a.removeprefix("party:") for a, _ in rows]
    return labels, {rule: [by.get(rule, 0) for _, by in rows] for rule in comparison.rules}


def terminal_comparison(comparison: Comparison, currency: str, width: int | None = None) -> str:
    """Horizontal bars in text: per account, one bar per rule (lengths by integer arithmetic)."""
    labels, series = _series(comparison, currency)
    columns = width or min(140, shutil.get_terminal_size((110, 24)).columns)
    name_width = max([len(r) for r in series] + [1])
    label_width = max([len(label) for label in labels] + [1])
    amounts = {rule: [format_micros(v, 2) for v in values] for rule, values in series.items()}
    amount_width = max([len(a) for values in amounts.values() for a in values] + [1])
    room = max(10, columns - label_width - name_width - amount_width - 6)
    high = max([1, *(abs(v) for values in series.values() for v in values)])
    marks = {rule: "█▓▒░#"[i % 5] for i, rule in enumerate(series)}
    out = [f"Pools {comparison.period} ({currency}): each account under each rule"]
    for i, label in enumerate(labels):
        for j, (rule, values) in enumerate(series.items()):
            bar = marks[rule] * (abs(values[i]) * room // high)
            head = label if j == 0 else ""
            out.append(f"{head:<{label_width}}  {rule:<{name_width}} {amounts[rule][i]:>{amount_width}} {bar}")
    return "\n".join(out)


def png_comparison(comparison: Comparison, currency: str, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    labels, series = _series(comparison, currency)
    fig, ax = plt.subplots(figsize=(11, 5), dpi=110)
    try:
        width = 0.8 / max(1, len(series))
        for i, (rule, values) in enumerate(series.items()):
            xs = [x + i * width for x in range(len(labels))]
            ax.bar(xs, values, width=width, label=rule, color=_COLOURS[i % len(_COLOURS)])
        ax.set_xticks([x + 0.4 - width / 2 for x in range(len(labels))], labels, rotation=30, ha="right", fontsize=8)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: format_micros(round(v), 2)))
        ax.set_title(f"Pools {comparison.period}: what each account receives under each rule ({currency})")
        ax.set_ylabel(currency)
        ax.legend()
        ax.grid(axis="y", alpha=0.3)
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path)
    finally:
        plt.close(fig)
    return path
