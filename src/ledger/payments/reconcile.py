"""Reconciliation: the provider's transfers against the payout events, every difference listed.

Kinds: `missing` (PayoutSent names a transfer the provider does not have), `extra` (a transfer
no PayoutSent names: sent but never recorded, sent for a failed payout, a second transfer for
one payout, or one made elsewhere), `amount_mismatch`, `currency_mismatch`,
`destination_mismatch`, `reversed` (money came back). Pending payouts with no transfer are
listed apart: nothing moved, so they are not a difference, but someone should run payouts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ledger.domain.payout_transfer import FAILED, PENDING, SENT
from ledger.payments.gateway import TransferGateway, TransferRecord
from ledger.payments.payout_log import PayoutState, read_payout_states

if TYPE_CHECKING:
    from ledger.application import RoyaltyLedger


@dataclass(frozen=True)
class Difference:
    kind: str
    detail: str
    payout_id: str | None = None
    transfer_id: str | None = None
    party: str | None = None
    ledger_amount_minor: int | None = None
    stripe_amount_minor: int | None = None
    ledger_currency: str | None = None
    stripe_currency: str | None = None


@dataclass
class ReconcileReport:
    payouts_sent: int = 0
    transfers: int = 0
    differences: list[Difference] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "payouts_sent": self.payouts_sent,
            "transfers": self.transfers,
            "differences": [asdict(d) for d in self.differences],
            "pending": self.pending,
        }


def reconcile(app: RoyaltyLedger, gateway: TransferGateway) -> ReconcileReport:
    states = read_payout_states(app)
    transfers = list(gateway.list_transfers())
    report = ReconcileReport(sum(1 for s in states.values() if s.status == SENT), len(transfers))
    by_id = {t.transfer_id: t for t in transfers}
    claimed = {s.transfer_id: s for s in states.values() if s.status == SENT and s.transfer_id}
    for transfer_id, state in sorted(claimed.items()):
        transfer = by_id.get(transfer_id)
        if transfer is None:
            report.differences.append(
                _diff("missing", state, None, "PayoutSent names a transfer the provider does not have")
            )
        else:
            report.differences.extend(_compare(state, transfer))
    for transfer in transfers:
        if transfer.transfer_id not in claimed:
            report.differences.append(_extra(transfer, states.get(transfer.payout_id or "")))
    report.pending = sorted(
        pid for pid, s in states.items() if s.status == PENDING and not any(t.payout_id == pid for t in transfers)
    )
    return report


def _compare(state: PayoutState, transfer: TransferRecord) -> list[Difference]:
    found = []
    if transfer.currency != state.currency:
        found.append(_diff("currency_mismatch", state, transfer, "currencies differ"))
    elif transfer.amount_minor != state.amount_minor:
        found.append(_diff("amount_mismatch", state, transfer, "amounts differ"))
    if transfer.destination != state.destination:
        found.append(
            _diff(
                "destination_mismatch",
                state,
                transfer,
                f"sent to {transfer.destination}, payout names {state.destination}",
            )
        )
    if transfer.reversed_minor:
        found.append(_diff("reversed", state, transfer, f"{transfer.reversed_minor} minor units were reversed"))
    return found


def _extra(transfer: TransferRecord, state: PayoutState | None) -> Difference:
    if state is None:
        why = "no payout of this ledger names it"
    elif state.status == PENDING:
        why = "sent but not recorded (the run stopped before PayoutSent): run payouts to record it"
    elif state.status == FAILED:
        why = f"the payout is recorded as failed ({state.reason}) but money moved"
    else:
        why = f"a second transfer for payout {state.payout_id} (recorded: {state.transfer_id})"
    return _diff("extra", state, transfer, why)


def _diff(kind: str, state: PayoutState | None, transfer: TransferRecord | None, detail: str) -> Difference:
    return Difference(
        kind=kind,
        detail=detail,
        payout_id=state.payout_id if state else (transfer.payout_id if transfer else None),
        transfer_id=transfer.transfer_id if transfer else (state.transfer_id if state else None),
        party=state.party if state else None,
        ledger_amount_minor=state.amount_minor if state else None,
        stripe_amount_minor=transfer.amount_minor if transfer else None,
        ledger_currency=state.currency if state else None,
        stripe_currency=transfer.currency if transfer else None,
    )
