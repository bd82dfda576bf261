"""Pool contributions on the money equation's left side (projections.statements.money)."""

from __future__ import annotations

from ledger.store.config import StoreConfig
from projections.statements.pools import query_store

_OVERVIEW = (
    "SELECT currency, CAST(SUM(amount_micros) AS BIGINT), MIN(occurred_at_us), MAX(occurred_at_us) "
    "FROM pool_contributions WHERE position <= {p} GROUP BY currency"
)
_BETWEEN = (
    "SELECT currency, CAST(SUM(amount_micros) AS BIGINT) FROM pool_contributions WHERE position <= {p} "
    "AND occurred_at_us >= {p} AND occurred_at_us < {p} GROUP BY currency"
)


def contributions_overview(config: StoreConfig, as_of: int) -> tuple[dict[str, int], int | None, int | None]:
    """Σ contributions per currency recorded ≤ as_of, and the occurred_at range they span."""
    rows = query_store(config, _OVERVIEW, (as_of,))
    lows = [int(r[2]) for r in rows]
    highs = [int(r[3]) for r in rows]
    return {str(c): int(t) for c, t, _, _ in rows}, (min(lows) if lows else None), (max(highs) if highs else None)


def contributions_between(config: StoreConfig, as_of: int, start_us: int, end_us: int) -> dict[str, int]:
    """Σ contributions per currency recorded ≤ as_of that occurred in [start_us, end_us)."""
    return {str(c): int(t) for c, t in query_store(config, _BETWEEN, (as_of, start_us, end_us))}
