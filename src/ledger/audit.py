"""Tamper evidence: a SHA-256 chain over the log's stored bytes, with checkpoints recorded as events.

chain(p) = SHA-256(chain(p−1) ‖ digest(p)), chain(0) = 32 zero bytes, where digest(p) covers the
position, originator id and version, topic and state of the event at position p. A checkpoint
records chain(upto) and a short digest of every event since the previous checkpoint, so
`verify` can name the first position whose bytes no longer match — or that went missing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import Notification

from ledger.domain.checkpoint import AuditCheckpoint

if TYPE_CHECKING:
    from ledger.application import RoyaltyLedger

GENESIS = bytes(32)
DIGEST_HEX_CHARS = 16  # 64 bits per event: enough to name a changed event, small in the checkpoint


def event_digest(n: Notification) -> bytes:
    h = hashlib.sha256()
    h.update(n.id.to_bytes(8, "big"))
    h.update(str(n.originator_id).encode())
    h.update(n.originator_version.to_bytes(8, "big"))
    h.update(n.topic.encode())
    h.update(bytes(n.state))
    return h.digest()


def chain_step(previous: bytes, digest: bytes) -> bytes:
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
    checkpoints: int = 0
    covered_upto: int = 0
    first_mismatch: Mismatch | None = None
    problems: list[Mismatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.first_mismatch is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "head": self.head,
            "events_checked": self.events_checked,
            "checkpoints": self.checkpoints,
            "covered_upto": self.covered_upto,
            "unchecked_tail": max(0, self.head - self.covered_upto),
            "first_mismatch": self.first_mismatch.as_dict() if self.first_mismatch else None,
        }


def _checkpoints(app: RoyaltyLedger) -> list[tuple[int, Any]]:
    """Every checkpoint event with its own position, oldest first."""
    found = []
    for n in app.read_log(topics=app.topics_of(AuditCheckpoint.Recorded)):  # type: ignore[attr-defined]
        found.append((n.id, app.decode(n)))
    return sorted(found, key=lambda item: item[1].upto_position)


def record_checkpoint(app: RoyaltyLedger, actor: str) -> AuditCheckpoint | None:
    """Extend the chain from the last checkpoint to the head; None when nothing is new."""
    checkpoints = _checkpoints(app)
    if checkpoints:
        last = checkpoints[-1][1]
        start, chain = last.upto_position + 1, bytes.fromhex(last.chain_hash)
    else:
        start, chain = 1, GENESIS
    digests: list[list[int | str]] = []
    upto = start - 1
    for n in app.read_log(start):
        digest = event_digest(n)
        chain = chain_step(chain, digest)
        digests.append([n.id, digest.hex()[:DIGEST_HEX_CHARS]])
        upto = n.id
    if not digests:
        return None
    checkpoint = AuditCheckpoint(
        from_position=start,
        upto_position=upto,
        chain_hash=chain.hex(),
        event_digests=digests,
        actor=actor,
    )
    app.save(checkpoint)
    return checkpoint


def _expected(checkpoints: Iterable[tuple[int, Any]]) -> Iterator[tuple[int, str, Any]]:
    for _, cp in checkpoints:
        for position, digest in cp.event_digests:
            yield position, digest, cp


def verify_chain(app: RoyaltyLedger) -> ChainReport:
    """Recompute the chain from position 1 and compare it with every checkpoint."""
    report = ChainReport(head=app.head_position())
    try:
        checkpoints = _checkpoints(app)
    except Exception as exc:  # a checkpoint event whose bytes were altered may not decode
        report.first_mismatch = Mismatch(0, f"a checkpoint event cannot be read: {exc}")
        return report
    report.checkpoints = len(checkpoints)
    expected = {pos: (digest, cp) for pos, digest, cp in _expected(checkpoints)}
    ends = {cp.upto_position: cp for _, cp in checkpoints}
    report.covered_upto = max(ends, default=0)
    chain, seen = GENESIS, set()
    for n in app.read_log(1):
        digest = event_digest(n)
        chain = chain_step(chain, digest)
        report.events_checked += 1
        seen.add(n.id)
        if n.id in expected and expected[n.id][0] != digest.hex()[:DIGEST_HEX_CHARS]:
            report.problems.append(Mismatch(n.id, "event bytes differ from the checkpointed digest"))
        elif n.id in ends and ends[n.id].chain_hash != chain.hex():
            report.problems.append(Mismatch(n.id, "chain hash differs from the checkpoint"))
    for position in sorted(set(expected) - seen):
        report.problems.append(Mismatch(position, "event is missing from the log"))
    if report.problems:
        report.problems.sort(key=lambda m: m.position)
        report.first_mismatch = report.problems[0]
    return report
