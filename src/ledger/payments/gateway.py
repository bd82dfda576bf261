"""The transfers port: what a payout run needs from a payment provider, and its two failure kinds.

`TransferDeclined` is a definite refusal (nothing moved: the payout fails, reason kept);
`TransferUncertain` means the outcome is unknown (timeout, 5xx), so the payout stays pending
and the next run looks the transfer up by its payout id before ever sending again.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class TransferRecord:
    """A transfer as the provider knows it; amounts in the currency's minor unit."""

    transfer_id: str
    payout_id: str | None  # from the transfer's metadata; None for transfers made elsewhere
    amount_minor: int
    currency: str  # ISO 4217, upper case
    destination: str
    reversed_minor: int = 0


class TransferDeclined(Exception):
    """The provider refused the transfer; nothing moved."""


class TransferUncertain(Exception):
    """The provider could not be asked or did not answer clearly; the transfer may exist."""


class TransferGateway(Protocol):
    def find_transfer(self, payout_id: str) -> TransferRecord | None:
        """The transfer made for this payout, if any (by transfer group and metadata)."""
        ...

    def create_transfer(
        self,
        payout_id: str,
        amount_minor: int,
        currency: str,
        destination: str,
        metadata: dict[str, str],
    ) -> TransferRecord:
        """Send once: the payout id is the idempotency key, so a retry returns the same transfer."""
        ...

    def list_transfers(self) -> Iterator[TransferRecord]:
        """Every transfer on the platform account, all pages."""
        ...
