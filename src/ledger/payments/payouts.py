"""The payout run: after a close, one payout per party and currency above the minimum, by transfer.

Never pays twice. The payout id is deterministic from (party, period, currency) and is the
transfer's idempotency key and transfer group. Before sending, a pending payout is looked up at
the provider by that id, so a run killed between the transfer and its event finds the transfer
on the next run and records it instead of sending again. Pending payouts of any period are
settled first, so a later period's balances never include money already in flight.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ledger.accounting import floor_to_minor_unit, minor_unit_micros
from ledger.domain.party import DomainError, Party
from ledger.domain.payout import Payout
from ledger.domain.payout_transfer import PENDING, PayoutTransfer, payout_transfer_id
from ledger.domain.period import Period
from ledger.payments.gateway import TransferDeclined, TransferGateway, TransferRecord, TransferUncertain
from ledger.payments.payout_log import read_payout_states

if TYPE_CHECKING:
    from ledger.application import RoyaltyLedger

_ACCOUNT = re.compile(r"^acct_[A-Za-z0-9]{1,64}$")


@dataclass
class PayoutLine:
    party: str
    currency: str
    period: str
    status: str  # sent | failed | pending | held | no_account | already_sent | already_failed
    balance_micros: int
    amount_micros: int = 0
    rest_micros: int = 0
    payout_id: str | None = None
    transfer_id: str | None = None
    reason: str = ""


@dataclass
class PayoutRunReport:
    period: str
    resumed: list[PayoutLine] = field(default_factory=list)
    lines: list[PayoutLine] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """False while any payout is left pending (its outcome unknown): run again."""
        return all(line.status != PENDING for line in (*self.resumed, *self.lines))

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "period": self.period,
            "resumed": [asdict(x) for x in self.resumed],
            "lines": [asdict(x) for x in self.lines],
        }


def link_payout_account(app: RoyaltyLedger, party_key: str, account_id: str, actor: str) -> bool:
    """Link a Stripe connected account (acct_…) to a party; False when it is already linked."""
    if not _ACCOUNT.match(account_id):
        raise DomainError(f"payout account {account_id!r}: expected a connected account id acct_…")
    party: Party = app.get_party(party_key)
    if party.payout_account == account_id:
        return False
    party.link_payout_account(account_ref=account_id, actor=actor)
    app.save(party)
    return True


def run_payouts(
    app: RoyaltyLedger,
    period: Period,
    balances: Mapping[tuple[str, str], int],
    gateway: TransferGateway,
    *,
    actor: str,
    minimum_micros: int,
) -> PayoutRunReport:
    """Settle pending payouts, then pay each (party, currency) balance owed after `period` closed.

    `balances` comes from the accounting rule (projections.statements.payouts.payable): the
    closing balance of the period less payouts recorded since its close.
    """
    report = PayoutRunReport(str(period))
    for state in read_payout_states(app).values():
        if state.status == PENDING:
            payout: PayoutTransfer = app.repository.get(payout_transfer_id(state.party, state.period, state.currency))
            report.resumed.append(settle(app, payout, gateway, actor))
    for (party_key, currency), balance in sorted(balances.items()):
        report.lines.append(_pay(app, period, party_key, currency, balance, gateway, actor, minimum_micros))
    return report


def _pay(
    app: RoyaltyLedger,
    period: Period,
    party_key: str,
    currency: str,
    balance: int,
    gateway: TransferGateway,
    actor: str,
    minimum_micros: int,
) -> PayoutLine:
    line = PayoutLine(party_key, currency, str(period), "held", balance)
    pid = payout_transfer_id(party_key, str(period), currency)
    if pid in app.repository:
        existing: PayoutTransfer = app.repository.get(pid)
        line.status = f"already_{existing.status}" if existing.status != PENDING else PENDING
        line.payout_id, line.transfer_id = str(pid), existing.transfer_id
        line.amount_micros, line.reason = existing.amount_micros, existing.failure_reason or ""
        return line
    amount = floor_to_minor_unit(max(balance, 0), currency)
    line.amount_micros, line.rest_micros = amount, balance - amount
    if amount <= 0 or amount < minimum_micros:
        line.reason = f"below the minimum payout ({amount} < {max(minimum_micros, 1)} micro-units)"
        return line
    party: Party = app.get_party(party_key)
    if not party.payout_account:
        line.status, line.reason = "no_account", "no payout account linked"
        return line
    payout = PayoutTransfer(
        party=party_key,
        period=str(period),
        currency=currency,
        amount_micros=amount,
        amount_minor=amount // minor_unit_micros(currency),
        destination=party.payout_account,
        balance_micros=balance,
        actor=actor,
    )
    app.save(payout)
    settled = settle(app, payout, gateway, actor)
    settled.balance_micros, settled.rest_micros = balance, balance - amount
    return settled


def settle(app: RoyaltyLedger, payout: PayoutTransfer, gateway: TransferGateway, actor: str) -> PayoutLine:
    """Find the pending payout's transfer, or send it once; record PayoutSent or PayoutFailed."""
    pid = str(payout.id)
    line = PayoutLine(
        payout.party,
        payout.currency,
        payout.period,
        PENDING,
        payout.balance_micros,
        payout.amount_micros,
        payout_id=pid,
    )
    try:
        transfer = gateway.find_transfer(pid) or gateway.create_transfer(
            pid,
            payout.amount_minor,
            payout.currency,
            payout.destination,
            {"party": payout.party, "period": payout.period},
        )
    except TransferDeclined as exc:
        payout.mark_failed(reason=str(exc), actor=actor)
        app.save(payout)
        line.status, line.reason = "failed", str(exc)
        return line
    except TransferUncertain as exc:
        line.reason = f"{exc}; still pending: run again to settle it"
        return line
    return _record_sent(app, payout, transfer, actor, line)


def _record_sent(
    app: RoyaltyLedger, payout: PayoutTransfer, transfer: TransferRecord, actor: str, line: PayoutLine
) -> PayoutLine:
    try:
        payout.mark_sent(transfer.transfer_id, transfer.amount_minor, transfer.currency, actor)
    except DomainError as exc:  # a transfer under this payout id that does not match: a person looks
        line.reason = f"{exc}; left pending"
        return line
    # The balance drops only now, in the same transaction as PayoutSent (issue 4's PayoutRecorded).
    recorded = Payout(
        party=payout.party,
        currency=payout.currency,
        amount_micros=payout.amount_micros,
        reference=f"stripe transfer {transfer.transfer_id} (payout {payout.id})",
        actor=actor,
    )
    app.save(payout, recorded)
    line.status, line.transfer_id = "sent", transfer.transfer_id
    return line
