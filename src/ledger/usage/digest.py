"""The canonical form of a usage batch and its SHA-256 (`UsageBatch.rows_sha256`, schemes 2 and 3).

One text line per usage line — every stored column in ledger.usage.store.LINE_COLUMNS order
(source, usage id, line number, kind, occurred_at_us, isrc, upc, listener hash, territory,
seconds played, currency, gross micros, pricing model, pricing version, play number, counted as
0/1, payload SHA-256, refund_of; an absent value is empty), fields joined by U+001F, the lines
sorted and joined by LF; then `LF Q<id>` per quarantined row and `LF R<id>U+001F<outcome>` per
resolved quarantine entry, each sorted. Every part is stored (usage_rows, usage_quarantine,
usage_quarantine_resolved), so the same function recomputes it from the tables.

Scheme 3 covers what a quarantined row says, not only its id: `LF Q<id>U+001F<SHA-256 of the
JSON array [source, usage id, raw SHA-256, reason, detail, raw row]>` (each as text or null,
compact, non-ASCII kept). A batch without quarantined rows has the same digest under both schemes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

from ledger.domain.usage_batch import DIGEST_SCHEME


def quarantine_entry(row: Sequence[Any], scheme: int = DIGEST_SCHEME) -> str:
    """A quarantined row's part of the digest; `row` is (quarantine_id, source, usage_id,
    raw_sha256, reason, detail, raw_row), as written to usage_quarantine."""
    if scheme < 3:
        return str(row[0])
    content = json.dumps([None if v is None else str(v) for v in row[1:7]], ensure_ascii=False, separators=(",", ":"))
    return f"{row[0]}\x1f{hashlib.sha256(content.encode()).hexdigest()}"


def batch_digest(
    lines: Iterable[Sequence[Any]],
    quarantine: Iterable[Sequence[Any]],
    resolved: Iterable[tuple[str, str]],
    scheme: int = DIGEST_SCHEME,
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
    for entry in sorted(quarantine_entry(row, scheme) for row in quarantine):
        digest.update(f"\nQ{entry}".encode())
    for quarantine_id, outcome in sorted(resolved):
        digest.update(f"\nR{quarantine_id}\x1f{outcome}".encode())
    return digest.hexdigest()
