"""Charts drawn on the server as SVG: bars, a line and pies, each beside a table with the same
figures (the table is the accessible form; the SVG is `aria-hidden` decoration with a title).

No chart library and no script: nothing to vendor, nothing loaded from elsewhere, and a page
reads the same without JavaScript. Values are integers (micro-units or counts) and the tables
print them exactly; only drawing coordinates are scaled to the viewBox.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT, PAD = 640, 240, 28
# Colour-blind-safe (Okabe–Ito) and distinct in greyscale by order; "other" is grey.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
OTHER = "#999999"


@dataclass(frozen=True)
class Slice:
    label: str
    value: int
    shown: str  # the value as text, e.g. "12.345678 EUR" or "1,234 plays"


def _drawn(svg: str) -> Markup:
    """Mark drawn SVG as safe: every text in it went through `escape`, numbers are formatted."""
    return Markup(svg)  # noqa: S704 - labels are escaped where they are put in


def _title(text: str) -> str:
    return f"<title>{escape(text)}</title>"


def bars(title: str, points: Sequence[Slice], *, line: bool = False) -> Markup:
    """Vertical bars (or a line) over the points in order; an empty chart says so."""
    if not points:
        return _drawn(f'<p class="empty">{escape(title)}: nothing yet.</p>')
    top = max(max(p.value for p in points), 1)
    inner_w, inner_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD
    step = inner_w / len(points)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-hidden="true" focusable="false">',
        _title(title),
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" stroke="#666"/>',
    ]
    coords = []
    for i, p in enumerate(points):
        h = max(p.value, 0) * inner_h / top
        x = PAD + i * step
        y = HEIGHT - PAD - h
        coords.append((x + step / 2, y))
        if not line:
            parts.append(
                f'<rect x="{x + step * 0.1:.1f}" y="{y:.1f}" width="{step * 0.8:.1f}" height="{h:.1f}" '
                f'fill="{PALETTE[0]}">{_title(f"{p.label}: {p.shown}")}</rect>'
            )
    if line:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{PALETTE[0]}" stroke-width="2"/>')
        for (x, y), p in zip(coords, points, strict=True):
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{PALETTE[0]}">{_title(p.label)}</circle>')
    every = max(1, math.ceil(len(points) / 8))
    for i, p in enumerate(points):
        if i % every == 0:
            parts.append(
                f'<text x="{PAD + i * step + step / 2:.1f}" y="{HEIGHT - 8}" font-size="11" '
                f'text-anchor="middle" fill="#333">{escape(p.label)}</text>'
            )
    parts.append(f'<text x="{PAD}" y="16" font-size="11" fill="#333">max {escape(_max_shown(points))}</text>')
    parts.append("</svg>")
    return _drawn("".join(parts))


def _max_shown(points: Sequence[Slice]) -> str:
    return max(points, key=lambda p: p.value).shown


def pie(title: str, slices: Sequence[Slice], *, keep: int = 6) -> Markup:
    """A pie of the largest `keep` slices plus "other", with a legend; negatives are left out."""
    positive = sorted((s for s in slices if s.value > 0), key=lambda s: -s.value)
    if not positive:
        return _drawn(f'<p class="empty">{escape(title)}: nothing yet.</p>')
    shown = positive[:keep]
    rest = sum(s.value for s in positive[keep:])
    total = sum(s.value for s in positive)
    coloured = [(s.label, s.value, PALETTE[i % len(PALETTE)]) for i, s in enumerate(shown)]
    if rest:
        coloured.append(("other", rest, OTHER))
    cx, cy, r = 110, 110, 100
    parts = [
        '<svg class="pie" viewBox="0 0 420 220" role="img" aria-hidden="true" focusable="false">',
        _title(title),
    ]
    angle = -math.pi / 2
    for i, (label, value, colour) in enumerate(coloured):
        sweep = 2 * math.pi * value / total
        if len(coloured) == 1:
            parts.append(f'<circle cx="{cx}" cy="{cy}" r="{r}" fill="{colour}"/>')
        else:
            x1, y1 = cx + r * math.cos(angle), cy + r * math.sin(angle)
            x2, y2 = cx + r * math.cos(angle + sweep), cy + r * math.sin(angle + sweep)
            large = 1 if sweep > math.pi else 0
            parts.append(
                f'<path d="M{cx},{cy} L{x1:.2f},{y1:.2f} A{r},{r} 0 {large} 1 {x2:.2f},{y2:.2f} Z" '
                f'fill="{colour}" stroke="#fff">{_title(label)}</path>'
            )
        angle += sweep
        share = value * 1000 // total
        parts.append(f'<rect x="230" y="{14 + i * 24}" width="14" height="14" fill="{colour}"/>')
        parts.append(
            f'<text x="250" y="{26 + i * 24}" font-size="12" fill="#222">'
            f"{escape(label[:22])} {share // 10}.{share % 10} %</text>"
        )
    parts.append("</svg>")
    return _drawn("".join(parts))
