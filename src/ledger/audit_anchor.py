"""Anchored checkpoints: the chain's value signed with a key the database does not hold, appended
to a file outside it.

A checkpoint inside the database proves nothing to someone who can rewrite the database: they
can rewrite an event, its written digest and every checkpoint after it. An anchor can't be
rewritten that way: `royalty audit anchor` verifies the log, then appends one line to the anchor
file (ROYALTY_AUDIT_ANCHORS, default var/audit-anchors.jsonl) —

    {"v": 1, "from": 1, "upto": 812, "chain_hash": "…", "digests": [[1, "…"], …], "time": "…",
     "key": "<key id>", "prev": "<SHA-256 of the previous line>", "store": "…", "actor": "…",
     "signature": "<Ed25519 signature, base64, over the other fields as canonical JSON>"}

— and records the same checkpoint in the log with the key's id. `royalty audit verify` checks
every line's signature with the public key, that each line follows the one before (`prev`,
`from`), that every checkpoint recorded as anchored has its line, and compares the log with the
anchored digests and chain hashes: an edit up to the last anchor is named by its position even
when the written digests and the checkpoints were recomputed to match.

Keys: Ed25519 (the `cryptography` package). `royalty audit keygen` writes the private key
(ROYALTY_AUDIT_SIGNING_KEY, default var/audit-signing.key, PKCS#8 PEM, mode 0600; never
overwritten, never printed) and its public key beside it (`.pub`). Verifying needs only the
public key: ROYALTY_AUDIT_PUBLIC_KEY, else the `.pub` beside the signing key. Keep the private
key off the database host (or at least away from the service's account); the key id is the
first 16 hex digits of the SHA-256 of the raw public key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.audit import ChainReport, _checkpoints, _Expected, verify_chain
from ledger.domain.checkpoint import AuditCheckpoint

if TYPE_CHECKING:
    from ledger.application import RoyaltyLedger

SIGNING_KEY_ENV = "ROYALTY_AUDIT_SIGNING_KEY"
PUBLIC_KEY_ENV = "ROYALTY_AUDIT_PUBLIC_KEY"
ANCHORS_ENV = "ROYALTY_AUDIT_ANCHORS"
DEFAULT_SIGNING_KEY = Path("var") / "audit-signing.key"
DEFAULT_ANCHORS = Path("var") / "audit-anchors.jsonl"
FORMAT = 1


class AnchorError(RuntimeError):
    """Anchoring refused: no key, an anchor file that does not verify, or a log that does not."""


def signing_key_path() -> Path:
    return Path(os.environ.get(SIGNING_KEY_ENV) or DEFAULT_SIGNING_KEY)


def anchors_path() -> Path:
    return Path(os.environ.get(ANCHORS_ENV) or DEFAULT_ANCHORS)


def public_key_path() -> Path:
    configured = os.environ.get(PUBLIC_KEY_ENV)
    return Path(configured) if configured else signing_key_path().with_name(signing_key_path().name + ".pub")


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def generate_signing_key(path: Path | None = None) -> tuple[Path, Path, str]:
    """Write a new Ed25519 key (mode 0600) and its public key beside it; never overwrite one."""
    path = path or signing_key_path()
    public = path.with_name(path.name + ".pub")
    if path.exists():
        raise AnchorError(f"{path} exists: a signing key is never overwritten (move it away first)")
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    public.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return path, public, key_id(key.public_key())


def load_signing_key(path: Path | None = None) -> Ed25519PrivateKey:
    path = path or signing_key_path()
    if not path.exists():
        raise AnchorError(
            f"no audit signing key at {path}: create one with `royalty audit keygen` "
            f"(or set {SIGNING_KEY_ENV} to its path)"
        )
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise AnchorError(f"{path} is not a PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise AnchorError(f"{path} is not an Ed25519 key")
    return key


def load_public_key(path: Path | None = None) -> Ed25519PublicKey | None:
    """The key anchors are checked with; None when none is configured or beside the signing key."""
    path = path or public_key_path()
    if not path.exists():
        return None
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (ValueError, TypeError) as exc:
        raise AnchorError(f"{path} is not a PEM public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise AnchorError(f"{path} is not an Ed25519 public key")
    return key


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


@dataclass
class AnchorLog:
    """The anchor file, read and checked: its valid entries and what is wrong with the others."""

    path: Path
    key_id: str | None
    entries: list[dict[str, Any]] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)
    last_line_sha256: str | None = None

    @property
    def upto(self) -> int:
        return int(self.entries[-1]["upto"]) if self.entries else 0

    @classmethod
    def load(cls, path: Path, public_key: Ed25519PublicKey | None) -> AnchorLog:
        log = cls(path, key_id(public_key) if public_key else None)
        if not path.exists():
            return log
        lines = path.read_bytes().splitlines()
        if lines and public_key is None:
            log.problems.append((0, f"the anchor file {path} cannot be checked: no public key (set {PUBLIC_KEY_ENV})"))
            return log
        assert public_key is not None or not lines
        previous_sha, previous_upto = None, 0
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            where = f"anchor file line {number}"
            try:
                entry = json.loads(line)
                signature = base64.b64decode(entry.pop("signature"), validate=True)
                upto, start = int(entry["upto"]), int(entry["from"])
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                log.problems.append((0, f"{where} is not an anchor: {exc}"))
                previous_sha = hashlib.sha256(line).hexdigest()
                continue
            try:
                assert public_key is not None
                public_key.verify(signature, _canonical(entry))
            except InvalidSignature:
                log.problems.append((upto, f"{where} (up to position {upto}): its signature does not verify"))
                previous_sha = hashlib.sha256(line).hexdigest()
                continue
            if entry.get("prev") != previous_sha or start != previous_upto + 1:
                log.problems.append(
                    (upto, f"{where} (up to position {upto}) does not follow the line before it: a line was removed")
                )
            log.entries.append(entry)
            previous_sha, previous_upto = hashlib.sha256(line).hexdigest(), upto
        log.last_line_sha256 = previous_sha
        return log

    def expected(self) -> _Expected:
        expected = _Expected("anchor")
        for entry in self.entries:
            for position, digest in entry["digests"]:
                expected.digests[int(position)] = str(digest)
            expected.chains[int(entry["upto"])] = str(entry["chain_hash"])
        return expected

    def check_checkpoints(self, checkpoints: Sequence[tuple[int, Any]], report: ChainReport) -> None:
        """Every checkpoint recorded as anchored must have its line: a removed anchor file, or
        lines cut from its end, are seen here."""
        anchored = {int(e["upto"]) for e in self.entries}
        for _, cp in checkpoints:
            if cp.anchor_key and int(cp.upto_position) not in anchored:
                report.add(
                    int(cp.upto_position),
                    f"the checkpoint up to position {cp.upto_position} was anchored with key {cp.anchor_key}, "
                    f"but {self.path} has no line for it",
                )


def load_anchor_log() -> AnchorLog:
    """The configured anchor file checked with the configured public key (environment); a key
    that cannot be read is a problem of the log, not an exception."""
    try:
        public = load_public_key()
    except AnchorError as exc:
        log = AnchorLog(anchors_path(), None)
        log.problems.append((0, str(exc)))
        return log
    return AnchorLog.load(anchors_path(), public)


@dataclass
class Anchored:
    entry: dict[str, Any]
    checkpoint: AuditCheckpoint | None
    path: Path


def anchor(app: RoyaltyLedger, actor: str, *, now: datetime | None = None) -> Anchored:
    """Verify the log (to the head, against the anchors so far), append a signed line for
    everything since the last anchor, then record the same checkpoint in the log."""
    key = load_signing_key()
    public = key.public_key()
    kid = key_id(public)
    configured = load_public_key()
    if configured is not None and key_id(configured) != kid:
        raise AnchorError(
            f"the public key {public_key_path()} (key {key_id(configured)}) is not the signing key's ({kid})"
        )
    path = anchors_path()
    log = AnchorLog.load(path, public)
    if log.problems:
        raise AnchorError(f"{path} does not verify, nothing anchored: {log.problems[0][1]}")
    checkpoints = _checkpoints(app)
    last_cp = checkpoints[-1][1] if checkpoints else None
    cp_from = int(last_cp.upto_position) + 1 if last_cp else 1
    report = verify_chain(app, log, collect_from=min(cp_from, log.upto + 1))
    if not report.ok:
        first = report.first_mismatch
        assert first is not None
        raise AnchorError(f"the log does not verify at position {first.position} ({first.problem}): nothing anchored")
    upto = report.last_position
    if upto <= log.upto:
        raise AnchorError(f"nothing to anchor: the anchors already cover the log up to position {log.upto}")
    digests = [[p, d] for p, d in report.collected if p > log.upto]
    entry: dict[str, Any] = {
        "v": FORMAT,
        "from": log.upto + 1,
        "upto": upto,
        "chain_hash": report.chain_hash,
        "digests": digests,
        "time": (now or datetime.now(UTC)).isoformat(),
        "key": kid,
        "prev": log.last_line_sha256,
        "store": app.config.describe(),
        "actor": actor,
    }
    signed = dict(entry, signature=base64.b64encode(key.sign(_canonical(entry))).decode())
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as fh:
        fh.write(json.dumps(signed, separators=(",", ":")).encode() + b"\n")
        fh.flush()
        os.fsync(fh.fileno())
    checkpoint = None
    if upto >= cp_from:
        checkpoint = AuditCheckpoint(
            from_position=cp_from,
            upto_position=upto,
            chain_hash=report.chain_hash,
            event_digests=[[p, d] for p, d in report.collected if p >= cp_from],
            actor=actor,
            anchor_key=kid,
        )
        app.save(checkpoint)
    return Anchored(signed, checkpoint, path)
