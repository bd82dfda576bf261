"""The rights history: everything in the log that decides who is paid, each fact with its position.

Folded once from a bulk read of the log (`read_rights_history`), then asked "as known at
position X": split versions (activated ≤ X), disputes (opened/resolved ≤ X), work links,
takedowns, rights-pie versions, period closes, payouts and tax remittances. Pure: it holds decoded facts only.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.utils import get_topic

from ledger.domain.dispute import Dispute
from ledger.domain.payout import Payout
from ledger.domain.period_close import PeriodClose
from ledger.domain.recording import Recording
from ledger.domain.rights_pie import RightsPieRuleSet
from ledger.domain.sales_report import TaxRemittance, WithholdingTax
from ledger.domain.split_agreement import SplitAgreement
from ledger.pools.facts import POOL_HANDLED, PoolFacts
from ledger.royalties.stored_facts import STORED_TOPICS, load_stored_facts
from ledger.store.log_reader import iter_stored_events
from ledger.store.recorders import PostgresLedgerRecorder, SQLiteLedgerRecorder

if TYPE_CHECKING:
    from ledger.application import RoyaltyLedger

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NEVER = 2**62


def to_us(instant: datetime) -> int:
    """Aware UTC instant → epoch microseconds (the usage table's clock)."""
    return (instant - EPOCH) // timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class VersionFact:
    version: int
    shares: tuple[tuple[str, int], ...]
    effective_from_us: int
    activated_at: int  # log position of SplitVersionActivated (or of Established)
    kind: str


@dataclass(slots=True)
class DisputeFact:
    dispute_id: str
    right: str
    subject_key: str
    claimant: str
    respondent: str | None
    claimed_ppm: int
    effective_from_us: int
    opened_at: int  # the position it began to move money: opened with standing, or admitted
    resolved_at: int = NEVER
    outcome: str | None = None
    awarded_ppm: int = 0


@dataclass(frozen=True, slots=True)
class CloseFact:
    period: str
    position: int
    as_of_position: int
    previous_period: str | None
    account_totals: dict[str, dict[str, dict[str, int]]]
    statement_hashes: dict[str, str]
    forced: bool
    reason: str


@dataclass(frozen=True, slots=True)
class PayoutFact:
    position: int
    payout_id: str
    party: str
    currency: str
    amount_micros: int
    reference: str


@dataclass(frozen=True, slots=True)
class RemittanceFact:
    """Withholding tax paid over: money leaving `account` (tax:<territory>) like a payout."""

    position: int
    remittance_id: str
    account: str
    currency: str
    amount_micros: int
    periods: tuple[str, ...]
    reference: str


@dataclass
class RightsHistory:
    """Facts with positions; every query takes the as-of position it answers for."""

    upto: int = 0
    versions: dict[tuple[str, str], list[VersionFact]] = field(default_factory=dict)
    disputes: dict[tuple[str, str], list[DisputeFact]] = field(default_factory=dict)
    work_links: dict[str, list[tuple[int, str | None]]] = field(default_factory=dict)
    availability: dict[str, list[tuple[int, int, str, tuple[str, ...], str]]] = field(
        default_factory=dict
    )  # isrc → (position, effective_at_us, action, territories, reason)
    pie_versions: list[tuple[int, int, int, dict[str, dict[str, int]]]] = field(
        default_factory=list
    )  # (position, version, effective_from_us, rules)
    closes: dict[str, CloseFact] = field(default_factory=dict)
    payouts: list[PayoutFact] = field(default_factory=list)
    titles: dict[str, list[tuple[int, str]]] = field(default_factory=dict)  # isrc → (position, title)
    withholding: list[tuple[int, int, int, dict[str, dict[str, int]]]] = field(
        default_factory=list
    )  # (position, version, effective_from_us, {party: {territory: ppm}}) — report income only
    remittances: list[RemittanceFact] = field(default_factory=list)
    pools: PoolFacts = field(default_factory=PoolFacts)  # pools, their rule versions, collectives
    _subjects: dict[Any, tuple[str, str]] = field(default_factory=dict)
    _proposed: dict[tuple[Any, int], dict[str, Any]] = field(default_factory=dict)
    _isrcs: dict[Any, str] = field(default_factory=dict)
    _disputes: dict[Any, DisputeFact] = field(default_factory=dict)

    def recordings_registered(self, upto: int) -> Iterator[tuple[str, str, int]]:
        """(recording id, ISRC, position) of each recording registered at or before `upto`: a
        recording's first event is its registration."""
        for originator, isrc in self._isrcs.items():
            at = self.work_links[isrc][0][0]
            if at <= upto:
                yield str(originator), isrc, at

    def fold(self, position: int, event: Any) -> None:
        """Apply one decoded event recorded at `position` (events arrive in position order)."""
        self.upto = max(self.upto, position)
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            handler(self, position, event)

    # --- queries, as known at a position ---------------------------------------------------

    def work_of(self, isrc: str, as_of: int) -> str | None:
        link = None
        for position, work_key in self.work_links.get(isrc, ()):
            if position <= as_of:
                link = work_key
        return link

    def title_of(self, isrc: str, as_of: int) -> str:
        """The recording's title as known at `as_of` (for statements people read)."""
        title = ""
        for position, text in self.titles.get(isrc, ()):
            if position <= as_of:
                title = text
        return title

    def closes_as_of(self, as_of: int) -> dict[str, CloseFact]:
        return {p: c for p, c in self.closes.items() if c.position <= as_of}

    def payouts_between(self, after: int, upto: int) -> list[PayoutFact]:
        return [p for p in self.payouts if after < p.position <= upto]

    def remittances_between(self, after: int, upto: int) -> list[RemittanceFact]:
        return [r for r in self.remittances if after < r.position <= upto]


def _split_opened(h: RightsHistory, position: int, e: Any) -> None:
    h._subjects[str(e.originator_id)] = (e.right, e.subject_key)


def _split_proposed(h: RightsHistory, position: int, e: Any) -> None:
    h._proposed[(str(e.originator_id), e.version)] = {
        "shares": tuple(sorted(e.shares.items())),
        "effective_from": e.effective_from,
        "kind": e.kind,
    }


def _split_activated(h: RightsHistory, position: int, e: Any) -> None:
    proposal = h._proposed[(str(e.originator_id), e.version)]
    h.versions.setdefault(h._subjects[str(e.originator_id)], []).append(
        VersionFact(
            e.version,
            proposal["shares"],
            to_us(proposal["effective_from"]),
            position,
            proposal["kind"],
        )
    )


def _split_established(h: RightsHistory, position: int, e: Any) -> None:
    """Opened with its first version active at once: subject, proposal and activation in one."""
    _split_opened(h, position, e)
    _split_proposed(h, position, e)
    _split_activated(h, position, e)


def _recording(h: RightsHistory, position: int, e: Any) -> None:
    if hasattr(e, "isrc"):
        h._isrcs[str(e.originator_id)] = e.isrc
    if getattr(e, "title", None) is not None:
        h.titles.setdefault(h._isrcs[str(e.originator_id)], []).append((position, str(e.title)))
    h.work_links.setdefault(h._isrcs[str(e.originator_id)], []).append((position, e.work_key))


def _availability(action: str) -> Any:
    def apply(h: RightsHistory, position: int, e: Any) -> None:
        h.availability.setdefault(h._isrcs[str(e.originator_id)], []).append(
            (position, to_us(e.effective_at), action, tuple(e.territories), e.reason)
        )

    return apply


def _dispute_opened(h: RightsHistory, position: int, e: Any) -> None:
    """An admitted dispute counts from the position it was opened at; a pending one (no
    standing yet) moves no money, and counts only from the position an operator admits it."""
    fact = DisputeFact(
        str(e.originator_id),
        e.right,
        e.subject_key,
        e.claimant,
        e.respondent,
        e.claimed_ppm,
        to_us(e.effective_from),
        position,
    )
    h._disputes[str(e.originator_id)] = fact
    if getattr(e, "standing", "unchecked") is not None:
        h.disputes.setdefault((e.right, e.subject_key), []).append(fact)


def _dispute_admitted(h: RightsHistory, position: int, e: Any) -> None:
    fact = h._disputes[str(e.originator_id)]
    fact.opened_at = position
    h.disputes.setdefault((fact.right, fact.subject_key), []).append(fact)


def _dispute_resolved(h: RightsHistory, position: int, e: Any) -> None:
    fact = h._disputes[str(e.originator_id)]
    fact.resolved_at, fact.outcome, fact.awarded_ppm = position, e.outcome, e.awarded_ppm


def _pie(h: RightsHistory, position: int, e: Any) -> None:
    h.pie_versions.append((position, e.version, to_us(e.effective_from), e.rules))


def _withholding(h: RightsHistory, position: int, e: Any) -> None:
    h.withholding.append((position, e.version, to_us(e.effective_from), e.rates))


def _closed(h: RightsHistory, position: int, e: Any) -> None:
    h.closes[e.period] = CloseFact(
        e.period,
        position,
        e.as_of_position,
        e.previous_period,
        e.account_totals,
        e.statement_hashes,
        e.forced,
        e.reason,
    )


def _payout(h: RightsHistory, position: int, e: Any) -> None:
    h.payouts.append(PayoutFact(position, str(e.originator_id), e.party, e.currency, e.amount_micros, e.reference))


def _remittance(h: RightsHistory, position: int, e: Any) -> None:
    h.remittances.append(
        RemittanceFact(
            position,
            str(e.originator_id),
            f"tax:{e.territory}",
            e.currency,
            e.amount_micros,
            tuple(e.periods),
            e.reference,
        )
    )


def _on_pools(fn: Any) -> Any:
    def apply(h: RightsHistory, position: int, e: Any) -> None:
        fn(h.pools, position, e)

    return apply


_HANDLED: list[tuple[type, str, Any]] = [
    (SplitAgreement, "Opened", _split_opened),
    (SplitAgreement, "SplitVersionProposed", _split_proposed),
    (SplitAgreement, "SplitVersionActivated", _split_activated),
    (SplitAgreement, "Established", _split_established),
    (Recording, "Registered", _recording),
    (Recording, "DetailsUpdated", _recording),
    (Recording, "TakenDown", _availability("takedown")),
    (Recording, "Reinstated", _availability("reinstatement")),
    (Dispute, "Opened", _dispute_opened),
    (Dispute, "Admitted", _dispute_admitted),
    (Dispute, "Resolved", _dispute_resolved),
    (RightsPieRuleSet, "RightsPieVersionRecorded", _pie),
    (WithholdingTax, "RatesSet", _withholding),
    (PeriodClose, "PeriodClosed", _closed),
    (Payout, "PayoutRecorded", _payout),
    (TaxRemittance, "Recorded", _remittance),
    *((cls, name, _on_pools(fn)) for cls, name, fn in POOL_HANDLED),
]
# Event classes are made by eventsourcing's @event decorator, so the type checker cannot see them.
_HANDLERS: dict[type, Any] = {getattr(cls, name): fn for cls, name, fn in _HANDLED}

# The events that change who is paid, as the statement rules see them (the live earnings read
# model follows exactly this set).
RIGHTS_EVENT_CLASSES: tuple[type, ...] = tuple(_HANDLERS)


def fold_history(events: Iterable[tuple[int, Any]]) -> RightsHistory:
    history = RightsHistory()
    for position, event in events:
        history.fold(position, event)
    return history


def _decoded(value: Any) -> Any:
    """Undo eventsourcing's JSON transcodings for the values the fold reads (times, UUIDs)."""
    if isinstance(value, dict) and "_type_" in value and "_data_" in value:
        if value["_type_"] == "datetime_iso":
            return datetime.fromisoformat(value["_data_"])
        if value["_type_"] == "uuid_hex":
            return UUID(value["_data_"])
    return value


_TIMES = ("effective_from", "effective_at")


def _fact(originator_id: str, state: bytes) -> SimpleNamespace:
    try:  # strict UTF-8 first: a third faster than json.loads(bytes), which decodes with surrogatepass
        fields = json.loads(state.decode())
    except UnicodeDecodeError:
        fields = json.loads(state)
    for name in _TIMES:
        if name in fields:
            fields[name] = _decoded(fields[name])
    fields.pop("originator_id", None)
    return SimpleNamespace(originator_id=originator_id, **fields)


def read_rights_history(
    app: RoyaltyLedger,
    upto: int | None = None,
    *,
    skip: Collection[int] = (),
    into: RightsHistory | None = None,
) -> RightsHistory:
    """One bulk read of the rights-relevant events (filtered by topic) up to `upto` (head).

    With plain JSON events (no cipher, no compressor) in a SQL store the rows are streamed
    and decoded straight from it; otherwise (in-memory store, …) through the app's mapper.
    `skip` names positions left out (the earnings read model's recorded poison events).
    `into` continues a history already read: only the events after its `upto` are folded into
    it (the log is append-only, so the result is the one a full read would give).
    """
    stop = app.head_position() if upto is None else upto
    start = 1 if into is None else into.upto + 1
    if into is not None and stop < into.upto:
        raise ValueError(f"a history read up to {into.upto} cannot be read back to {stop}")
    by_topic = {get_topic(cls): cls for cls in _HANDLERS}
    mapper = app.mapper
    plain = mapper.cipher is None and mapper.compressor is None
    if plain and isinstance(app.recorder, SQLiteLedgerRecorder | PostgresLedgerRecorder):
        history = RightsHistory() if into is None else into
        topics = list(by_topic)
        if not skip:  # the stored facts hold every position: a skipped one needs the events
            # Split versions and recordings from the tables the database keeps (migration 0036);
            # recordings first, as their events precede the takedowns folded below.
            load_stored_facts(app.config, history, start, stop)
            topics = [t for t in topics if t not in STORED_TOPICS]
        for position, originator_id, topic, state in iter_stored_events(app.config, topics, stop, start):
            if position in skip:
                continue
            _HANDLERS[by_topic[topic]](history, position, _fact(originator_id, state))
            history.upto = position
    else:
        notes = app.read_log(start, stop=stop, topics=list(by_topic))
        history = RightsHistory() if into is None else into
        for n in notes:
            if n.id not in skip:
                history.fold(n.id, app.decode(n))
    history.upto = stop
    return history
