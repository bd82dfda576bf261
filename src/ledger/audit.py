"""Tamper evidence: a SHA-256 chain over the log's stored bytes, checked at every position up to
the head.

chain(p) = SHA-256(chain(p−1) ‖ digest(p)), chain(0) = 32 zero bytes, where digest(p)
(ledger.store.event_digest) covers the position, originator id and version, topic and state of
the event at position p. Three records are compared with what the log holds now:

- the **written digests**: every event's digest, recorded in the same transaction as the event
  (audit_event_digests, migration 0012) — so every position up to the head is checked, not only
  those a checkpoint covers;
- the **checkpoints**: AuditCheckpoint events, each with chain(upto) and a short digest of every
  event since the previous one;
- the **anchors** (ledger.audit_anchor): checkpoints signed with a key the database does not
  hold and appended to a file outside it — so an edit whose written digest and checkpoints
  were recomputed to match is still caught.

`verify_chain` reads the rows raw, never through the event mapper: a malformed row (a state
stored as text, an originator id that is no UUID) is named by its position, not a crash.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from eventsourcing.persistence import Notification

from ledger.domain.checkpoint import AuditCheckpoint
from ledger.store.event_digest import event_digest_of

if TYPE_CHECKING:
    from ledger.application import RoyaltyLedger
    from ledger.audit_anchor import AnchorLog

GENESIS = bytes(32)
DIGEST_HEX_CHARS = 16  # 64 bits per event: enough to name a changed event, small in the checkpoint
_PAGE = 5_000
_MAX_PROBLEMS = 1_000


def event_digest(n: Notification) -> bytes:
    return event_digest_of(n.id, str(n.originator_id), n.originator_version, n.topic, bytes(n.state))


def chain_step(previous: bytes, digest: bytes) -> bytes:
    import hashlib

    return hashlib.sha256(previous + digest).digest()


@dataclass
class Mismatch:
    position: int
    problem: str

    def as_dict(self) -> dict[str, Any]:
        return {"position": self.position, "problem": self.problem}


@dataclass
class ChainReport:
    head: int
    events_checked: int = 0
    written_digests_checked: int = 0
    digests_from: int = 1
    checkpoints: int = 0
    covered_upto: int = 0
    anchors: int = 0
    anchored_upto: int = 0
    anchor_key: str | None = None
    problems: list[Mismatch] = field(default_factory=list)
    # The chain at the last position read, and (from `collect_from` on) each position's short
    # digest: what an anchor or a checkpoint made right after this verification records.
    last_position: int = 0
    chain_hash: str = GENESIS.hex()
    collected: list[tuple[int, str]] = field(default_factory=list)

    @property
    def first_mismatch(self) -> Mismatch | None:
        return min(self.problems, key=lambda m: m.position) if self.problems else None

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, position: int, problem: str) -> None:
        if len(self.problems) < _MAX_PROBLEMS:
            self.problems.append(Mismatch(position, problem))

    def as_dict(self) -> dict[str, Any]:
        first = self.first_mismatch
        return {
            "ok": self.ok,
            "head": self.head,
            "events_checked": self.events_checked,
            "written_digests_checked": self.written_digests_checked,
            "digests_from": self.digests_from,
            "checkpoints": self.checkpoints,
            "covered_upto": self.covered_upto,
            "anchors": self.anchors,
            "anchored_upto": self.anchored_upto,
            "anchor_key": self.anchor_key,
            # Positions an intruder able to rewrite the database could still change unseen,
            # recomputing the written digests and checkpoints: those after the last anchor.
            "not_anchored": max(0, self.head - self.anchored_upto),
            "first_mismatch": first.as_dict() if first else None,
            "problems": [m.as_dict() for m in sorted(self.problems, key=lambda m: m.position)],
        }


# --- raw rows ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RawEvent:
    """One row of stored_events as the database holds it, whatever its types."""

    position: int
    originator_id: Any
    version: Any
    topic: Any
    state: Any

    def digest(self) -> tuple[bytes, str | None]:
        """The event's digest and, for a malformed row, what is wrong with it (the digest is
        then taken over what is there, so it still differs from any recorded one)."""
        problems = []
        oid = self.originator_id
        if isinstance(oid, UUID):
            oid_text = str(oid)
        else:
            oid_text = str(oid)
            try:
                oid_text = str(UUID(str(oid)))
            except ValueError:
                problems.append("its originator id is not a UUID")
        version = self.version
        if not isinstance(version, int) or isinstance(version, bool):
            problems.append(f"its version is {type(version).__name__}, not an integer")
            version = -1
        topic = self.topic
        if not isinstance(topic, str):
            problems.append(f"its topic is {type(topic).__name__}, not text")
            topic = "" if topic is None else repr(topic)
        state = self.state
        if isinstance(state, memoryview):
            state = bytes(state)
        if not isinstance(state, bytes):
            problems.append(f"its state is {'NULL' if state is None else type(state).__name__}, not bytes")
            state = b"" if state is None else (state.encode() if isinstance(state, str) else repr(state).encode())
        try:
            digest = event_digest_of(self.position, oid_text, version, topic, state)
        except (OverflowError, ValueError) as exc:
            problems.append(f"its values cannot be digested ({exc})")
            digest = bytes(32)
        return digest, ("malformed event row: " + "; ".join(problems)) if problems else None


def _raw_events(app: RoyaltyLedger, start: int, limit: int) -> list[RawEvent]:
    recorder = cast(Any, app.recorder)
    if app.config.backend == "sqlite":
        with recorder.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events "
                "WHERE rowid >= ? ORDER BY rowid LIMIT ?",
                (start, limit),
            )
            return [RawEvent(*row) for row in c.fetchall()]
    with recorder.datastore.get_connection() as conn, conn.cursor() as curs:
        curs.execute(
            "SELECT notification_id, originator_id, originator_version, topic, state FROM stored_events "
            "WHERE notification_id >= %s ORDER BY notification_id LIMIT %s",
            (start, limit),
        )
        return [
            RawEvent(r["notification_id"], r["originator_id"], r["originator_version"], r["topic"], r["state"])
            for r in curs.fetchall()
        ]


def _query(app: RoyaltyLedger, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    recorder = cast(Any, app.recorder)
    if app.config.backend == "sqlite":
        with recorder.datastore.transaction(commit=False) as c:
            c.execute(sql, tuple(params))
            return [tuple(row) for row in c.fetchall()]
    with recorder.datastore.get_connection() as conn, conn.cursor() as curs:
        curs.execute(sql.replace("?", "%s"), tuple(params))
        return [tuple(row.values()) for row in curs.fetchall()]


def _written_digests(app: RoyaltyLedger, first: int, last: int | None) -> dict[int, bytes]:
    if last is None:
        rows = _query(app, "SELECT position, digest FROM audit_event_digests WHERE position >= ?", (first,))
    else:
        rows = _query(
            app, "SELECT position, digest FROM audit_event_digests WHERE position >= ? AND position <= ?", (first, last)
        )
    return {int(p): bytes(d) if isinstance(d, bytes | memoryview) else str(d).encode() for p, d in rows}


def _digests_from(app: RoyaltyLedger) -> int:
    rows = _query(app, "SELECT value FROM audit_state WHERE name = 'digests_from'", ())
    return int(rows[0][0]) if rows else 1


def iter_raw_log(app: RoyaltyLedger, start: int = 1) -> Iterator[list[RawEvent]]:
    """The log in pages of raw rows, from `start`."""
    position = start
    while True:
        page = _raw_events(app, position, _PAGE)
        if page:
            yield page
        if len(page) < _PAGE:
            return
        position = page[-1].position + 1


# --- checkpoints ------------------------------------------------------------------------------


def _checkpoints(app: RoyaltyLedger, report: ChainReport | None = None) -> list[tuple[int, Any]]:
    """Every checkpoint event with its own position, oldest first; one that cannot be read is
    reported (when a report is given) and left out."""
    found = []
    for n in app.read_log(topics=app.topics_of(AuditCheckpoint.Recorded)):
        try:
            found.append((n.id, app.decode(n)))
        except Exception as exc:  # a checkpoint event whose bytes were altered may not decode
            if report is None:
                raise
            report.add(n.id, f"the checkpoint event cannot be read: {exc}")
    return sorted(found, key=lambda item: item[1].upto_position)


def record_checkpoint(app: RoyaltyLedger, actor: str, *, anchor_key: str | None = None) -> AuditCheckpoint | None:
    """Extend the chain from the last checkpoint to the head; None when nothing is new."""
    checkpoints = _checkpoints(app)
    if checkpoints:
        last = checkpoints[-1][1]
        start, chain = last.upto_position + 1, bytes.fromhex(last.chain_hash)
    else:
        start, chain = 1, GENESIS
    digests: list[list[int | str]] = []
    upto = start - 1
    for page in iter_raw_log(app, start):
        for row in page:
            digest, _ = row.digest()
            chain = chain_step(chain, digest)
            digests.append([row.position, digest.hex()[:DIGEST_HEX_CHARS]])
            upto = row.position
    if not digests:
        return None
    checkpoint = AuditCheckpoint(
        from_position=start,
        upto_position=upto,
        chain_hash=chain.hex(),
        event_digests=digests,
        actor=actor,
        anchor_key=anchor_key,
    )
    app.save(checkpoint)
    return checkpoint


# --- verification -----------------------------------------------------------------------------


@dataclass
class _Expected:
    """What one record (the checkpoints, or the anchors) says the log held."""

    name: str
    digests: dict[int, str] = field(default_factory=dict)  # position -> short hex digest
    chains: dict[int, str] = field(default_factory=dict)  # upto position -> chain hash hex


def _from_checkpoints(checkpoints: list[tuple[int, Any]]) -> _Expected:
    expected = _Expected("checkpoint")
    for _, cp in checkpoints:
        for position, digest in cp.event_digests:
            expected.digests[int(position)] = str(digest)
        expected.chains[int(cp.upto_position)] = str(cp.chain_hash)
    return expected


def verify_chain(
    app: RoyaltyLedger, anchors: AnchorLog | None = None, *, collect_from: int | None = None
) -> ChainReport:
    """Recompute the chain from position 1 to the head; compare every position with its written
    digest, the checkpoints and the anchors; name every position that does not match."""
    report = ChainReport(head=app.head_position())
    checkpoints = _checkpoints(app, report)
    report.checkpoints = len(checkpoints)
    report.covered_upto = max((cp.upto_position for _, cp in checkpoints), default=0)
    records = [_from_checkpoints(checkpoints)]
    if anchors is not None:
        records.append(anchors.expected())
        report.anchors, report.anchored_upto, report.anchor_key = len(anchors.entries), anchors.upto, anchors.key_id
        for position, problem in anchors.problems:
            report.add(position, problem)
        anchors.check_checkpoints(checkpoints, report)
    report.digests_from = _digests_from(app)
    chain, seen, last = GENESIS, set(), 0
    for page in iter_raw_log(app):
        written = _written_digests(app, last + 1, page[-1].position)
        for row in page:
            digest, malformed = row.digest()
            chain = chain_step(chain, digest)
            report.events_checked += 1
            seen.add(row.position)
            if malformed:
                report.add(row.position, malformed)
            recorded = written.pop(row.position, None)
            if recorded is not None:
                report.written_digests_checked += 1
                if recorded != digest:
                    report.add(row.position, "event bytes differ from the digest recorded when it was written")
            elif row.position >= report.digests_from:
                report.add(
                    row.position, "no digest was recorded when this event was written (inserted around the application)"
                )
            short = digest.hex()[:DIGEST_HEX_CHARS]
            if collect_from is not None and row.position >= collect_from:
                report.collected.append((row.position, short))
            for record in records:
                if record.digests.get(row.position, short) != short:
                    report.add(row.position, f"event bytes differ from the {record.name}ed digest")
                elif record.chains.get(row.position, chain.hex()) != chain.hex():
                    report.add(row.position, f"chain hash differs from the {record.name}")
        for position in written:  # digests recorded in this page's range for no event there
            report.add(position, "event is missing from the log (its written digest remains)")
        last = page[-1].position
    report.last_position, report.chain_hash = last, chain.hex()
    for position in _written_digests(app, last + 1, None):
        report.add(position, "event is missing from the log (its written digest remains)")
    for record in records:
        for position in sorted(set(record.digests) - seen):
            report.add(position, f"event is missing from the log (the {record.name} lists it)")
    return report
