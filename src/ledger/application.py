"""The ledger application: one eventsourcing Application, one log, commands for every change.

Every command validates before it records: invalid identifiers, unknown parties and shares
not summing to 10⁶ raise with the reason, and nothing is written. The core (store wiring,
lookups, the log) is `ledger.base.LedgerBase`; each group of commands is a mixin over it.
"""

from __future__ import annotations

from ledger.accounting import AccountingCommands
from ledger.audio import AudioCommands
from ledger.base import Clock, DateAsISO, LedgerBase, NotFound, system_clock
from ledger.catalogue import CatalogueCommands
from ledger.content import ContentCommands
from ledger.pools.commands import PoolCommands
from ledger.rights import RightsCommands
from ledger.usage.pricing_commands import PricingCommands

__all__ = ["Clock", "DateAsISO", "NotFound", "RoyaltyLedger", "system_clock"]


class RoyaltyLedger(
    CatalogueCommands,
    ContentCommands,
    RightsCommands,
    AccountingCommands,
    PricingCommands,
    AudioCommands,
    PoolCommands,
    LedgerBase,
):
    """The write side. Construct with a StoreConfig; tables must exist (`royalty init`)."""

    name = "RoyaltyLedger"
