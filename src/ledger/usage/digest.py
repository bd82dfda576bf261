"""The canonical form of a usage batch and its SHA-256 (`UsageBatch.rows_sha256`, scheme 2).

One text line per usage line — every stored column in ledger.usage.store.LINE_COLUMNS order
(source, usage id, line number, kind, occurred_at_us, isrc, upc, listener hash, territory,
seconds played, currency, gross micros, pricing model, pricing version, play number, counted as
0/1, payload SHA-256, refund_of; an absent value is empty), fields joined by U+001F, the lines
sorted and joined by LF; then `LF Q<id>` per quarantined row and `LF R<id>U+001F<outcome>` per
resolved quarantine entry, each sorted. Every part is stored (usage_rows, usage_quarantine,
usage_quarantine_resolved), so the same function recomputes it from the tables.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any


def batch_digest(
    lines: Iterable[Sequence[Any]], quarantine_ids: Iterable[str], resolved: Iterable[tuple[str, str]]
) -> str:
    text = sorted(
        [
            f"{s}\x1f{u}\x1f{n}\x1f{k}\x1f{at}\x1f{i}\x1f{'' if e is None else e}\x1f{lh}\x1f{t}"
            f"\x1f{'' if sec is None else sec}\x1f{c}\x1f{g}\x1f{m}\x1f{v}\x1f{'' if pn is None else pn}"
            f"\x1f{int(o)}\x1f{h}\x1f{'' if r is None else r}"
            for s, u, n, k, at, i, e, lh, t, sec, c, g, m, v, pn, o, h, r in lines
        ]
    )
    digest = hashlib.sha256("\n".join(text).encode())
    for quarantine_id in sorted(quarantine_ids):
        digest.update(f"\nQ{quarantine_id}".encode())
    for quarantine_id, outcome in sorted(resolved):
        digest.update(f"\nR{quarantine_id}\x1f{outcome}".encode())
    return digest.hexdigest()
