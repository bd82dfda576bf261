"""ledger.royalties: the pure royalty rules — allocation keys, the rights timeline, totals.

Public surface (reused by the live earnings projection):
- `allocate_key(gross_micros, AllocationContext) -> {account: micros}` and the detailed form
  `allocate_key_detailed` (parts by account, right and escrow release);
- `read_rights_history(app, upto)` / `fold_history(events)` → `RightsHistory`, then
  `rights_timeline(history, isrc, start_us, end_us, as_of)` → segments with their context;
- `timelines_for`, `account_totals(keys, timelines)` for a period as known at a position.
"""

from ledger.royalties.allocation import (
    PLATFORM,
    AllocationContext,
    DisputeClaim,
    RightContext,
    allocate_key,
    allocate_key_detailed,
    escrow_account,
    party_account,
    suspense_account,
)
from ledger.royalties.history import RightsHistory, fold_history, read_rights_history, to_us
from ledger.royalties.timeline import Segment, SegmentContext, context_at, rights_timeline
from ledger.royalties.totals import (
    KeyTotals,
    UsageKey,
    account_totals,
    key_context,
    period_bounds_us,
    timelines_for,
)

__all__ = [
    "PLATFORM",
    "AllocationContext",
    "DisputeClaim",
    "KeyTotals",
    "RightContext",
    "RightsHistory",
    "Segment",
    "SegmentContext",
    "UsageKey",
    "account_totals",
    "allocate_key",
    "allocate_key_detailed",
    "context_at",
    "escrow_account",
    "fold_history",
    "key_context",
    "party_account",
    "period_bounds_us",
    "read_rights_history",
    "rights_timeline",
    "suspense_account",
    "timelines_for",
    "to_us",
]
