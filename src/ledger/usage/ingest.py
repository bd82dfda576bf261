"""Ingest usage: batches in, one UsageBatch event plus its rows per batch, a summary out.

The same function serves files (CLI), request bodies (API) and quarantine retries. A batch is
all in or all out; when another writer lands a batch between this batch's lookups and its
write, the batch is prepared again (never written with stale play numbers or duplicates).
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import IntegrityError

from ledger.domain.text import check_text
from ledger.domain.usage_batch import UsageBatch
from ledger.usage.batch import prepare_batch
from ledger.usage.catalogue_cache import catalogue_view
from ledger.usage.digest import batch_digest
from ledger.usage.listener import ListenerHasher, load_listener_secret
from ledger.usage.memory import RunMemory
from ledger.usage.prepare import Context, Prepared
from ledger.usage.rows import RowBatch, datetime_to_us, normalise_dicts
from ledger.usage.store import UsageConflict, UsageStore, UsageWrite
from ledger.usage.writer import ProcessWriter, pack, stored_events_of

if TYPE_CHECKING:
    from ledger.application import RoyaltyLedger

DEFAULT_BATCH_SIZE = 50_000
_ATTEMPTS = 5


@dataclass
class IngestSummary:
    """What an ingest did; money is integer micro-units per currency."""

    rows: int = 0
    accepted: int = 0
    lines: int = 0
    duplicates: int = 0
    quarantined: Counter[str] = field(default_factory=Counter)
    revenue: Counter[str] = field(default_factory=Counter)
    owners_acquired: int = 0
    resolved: int = 0
    batches: int = 0
    positions: list[int] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    def add(self, rows: int, prepared: Prepared, position: int | None) -> None:
        self.rows += rows
        self.accepted += prepared.accepted
        self.lines += prepared.lines.num_rows
        self.duplicates += prepared.duplicates
        self.quarantined.update(prepared.quarantined)
        self.revenue.update(prepared.totals)
        self.owners_acquired += len(prepared.ownership)
        self.resolved += sum(1 for _, outcome in prepared.resolved if outcome == "accepted")
        if position is not None:
            self.batches += 1
            self.positions.append(position)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["quarantined"] = dict(sorted(self.quarantined.items()))
        data["quarantined_total"] = sum(self.quarantined.values())
        del data["revenue"]
        data["revenue_micros"] = dict(sorted(self.revenue.items()))
        data["rows_per_second"] = round(self.rows_per_second, 1)
        data["seconds"] = round(self.seconds, 3)
        return data


Progress = Callable[[IngestSummary], None]
Step = tuple[int, Prepared, int | None]  # rows in the batch, what it held, its position


class UsageIngest:
    """One ingest run: catalogue, pricing and listener key are fixed when it starts."""

    def __init__(
        self, app: RoyaltyLedger, actor: str, *, secret: bytes | None = None, writer_process: bool = True
    ) -> None:
        """`writer_process`: on SQLite, let a child process write while this one prepares (when
        there are at least two batches); False writes every batch in this process."""
        self.app, self.actor = app, actor
        self.writer_process = writer_process
        self.store = UsageStore(app)
        self.hasher = ListenerHasher(secret if secret is not None else load_listener_secret())
        self.catalogue = catalogue_view(app)
        self.pricing = app.current_pricing()
        self.memory = RunMemory()
        self.writer: ProcessWriter | None = None
        self.lookups: ThreadPoolExecutor | None = None  # PostgreSQL: stream2own lookups run ahead
        # PostgreSQL: a prepared batch is staged on its own thread (`staging`), its COPY bytes
        # built on another (`stager`) beside its digest.
        self.staging: ThreadPoolExecutor | None = None
        self.stager: ThreadPoolExecutor | None = None

    def _context(self) -> Context:
        now = self.app.clock()
        version, config = self.pricing if self.pricing else (0, None)
        now_us = datetime_to_us(now)
        return Context(self.store, self.catalogue, self.hasher, now_us, version, config, self.memory, self.lookups)

    def run(
        self,
        batches: Iterable[RowBatch],
        origin: str = "",
        progress: Progress | None = None,
        summary: IngestSummary | None = None,
    ) -> IngestSummary:
        """Write batches in order, the next one read and prepared on a second thread while the
        current one is written: by the server on PostgreSQL, by a writer process on SQLite
        (writing in this process would fight that thread for the GIL). A single batch is
        simply prepared and written."""
        summary = summary or IngestSummary()
        started = time.perf_counter()
        batches, several = _peek_several(batches)
        if several and self.writer_process and self.store.backend == "sqlite":
            self.writer = ProcessWriter(self.app.config, self.app.env)
        if self.store.backend == "postgres":
            self.lookups = ThreadPoolExecutor(max_workers=1, thread_name_prefix="usage-lookup")
            self.stager = ThreadPoolExecutor(max_workers=1, thread_name_prefix="usage-copy-bytes")
            self.staging = ThreadPoolExecutor(max_workers=1, thread_name_prefix="usage-stage")
        try:
            steps = self._pipelined(batches, origin) if several else self._one_by_one(batches, origin)
            for rows, prepared, position in steps:
                summary.add(rows, prepared, position)
                summary.seconds += time.perf_counter() - started
                started = time.perf_counter()
                if progress:
                    progress(summary)
        finally:
            if self.writer is not None:
                self.writer.close()
                self.writer = None
            if self.lookups is not None:
                self.lookups.shutdown()
                self.lookups = None
            if self.staging is not None:
                self.staging.shutdown()
                self.staging = None
            if self.stager is not None:
                self.stager.shutdown()
                self.stager = None
        return summary

    def _one_by_one(self, batches: Iterable[RowBatch], origin: str) -> Iterator[Step]:
        for batch in batches:
            prepared, position = self.record(batch, origin)
            yield len(batch), prepared, position

    def _pipelined(self, batches: Iterable[RowBatch], origin: str) -> Iterator[Step]:
        """The next batch is prepared — and staged: its event, digest and, for a writer
        process, its bytes — against this run's memory, which already holds the batch being
        written; every write re-checks the usage watermark under the log's lock, so if anything
        went differently (a refused id, another writer) the batch is redone on its own and the
        one prepared ahead is prepared again."""
        rows = iter(batches)
        expected = self.store.watermark()
        self.memory.check(expected)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="usage-prepare") as pool:
            ahead: Future[tuple[RowBatch, Future[Staged] | None] | None] = pool.submit(self._prepare_next, rows, origin)
            while (current := ahead.result()) is not None:
                batch, ready = current
                if ready is None:
                    # A batch with refunds is prepared only now, every earlier batch committed:
                    # its refunds are checked against the stored sales and refunds they follow.
                    staged = self._stage(self._prepare(batch), origin)
                    ahead = pool.submit(self._prepare_next, rows, origin)
                else:  # the next batch is prepared while this one's staging ends
                    ahead = pool.submit(self._prepare_next, rows, origin)
                    staged = ready.result()
                prepared = staged.prepared
                try:
                    position = self._commit(staged, expected) if staged.batch is not None else None
                except (UsageConflict, IntegrityError):
                    following = ahead.result()
                    self.memory.conflict()
                    prepared, position = self.record(batch, origin)
                    expected = self.store.watermark()
                    self.memory.check(expected)
                    ahead = _done(None if following is None else (following[0], None))
                else:
                    expected = position if position is not None and prepared.lines.num_rows else expected
                yield len(batch), prepared, position

    def _prepare(self, batch: RowBatch) -> Prepared:
        """Prepare, and remember what the batch will write (tentatively: a failed write clears it)."""
        prepared = prepare_batch(batch, self._context())
        self.memory.remember(prepared.written, prepared.play_counts)
        return prepared

    def _prepare_next(self, rows: Iterator[RowBatch], origin: str) -> tuple[RowBatch, Future[Staged] | None] | None:
        """Read the next batch and prepare it ahead, unless it holds refunds (None: prepare it
        after the batch being written has committed). Its staging (digest, event, COPY bytes)
        is left to the staging thread on PostgreSQL, so this thread goes on to the next batch."""
        batch = next(rows, None)
        if batch is None:
            return None
        if "refund" in batch.kind:
            return batch, None
        prepared = self._prepare(batch)
        if self.staging is not None:
            return batch, self.staging.submit(self._stage, prepared, origin)
        return batch, _done(self._stage(prepared, origin))

    def record(self, batch: RowBatch, origin: str = "", retrying: Sequence[str] = ()) -> tuple[Prepared, int | None]:
        """Prepare and write one batch; returns what it held and its position (None: no-op)."""
        recorded = self.record_built(lambda: batch, origin, retrying)
        assert recorded is not None
        return recorded

    def record_built(
        self, build: Callable[[], RowBatch | None], origin: str = "", retrying: Sequence[str] = ()
    ) -> tuple[Prepared, int | None] | None:
        """Like `record`, for a batch whose rows depend on the usage already stored (a refund's
        increment over its sale's stored refunds): `build` runs in every attempt after the
        usage watermark is read, and the write is refused if any usage landed since, so what
        it decided and the write are one serialised step. None: `build` found nothing to write.
        """
        for attempt in range(_ATTEMPTS):
            watermark = self.store.watermark()
            self.memory.check(watermark)
            batch = build()
            if batch is None:
                return None
            prepared = prepare_batch(batch, self._context(), retrying)
            if not _writes(prepared):
                return prepared, None
            try:
                position = self._commit(self._stage(prepared, origin), watermark)
            except (UsageConflict, IntegrityError):
                self.memory.conflict()
                if attempt == _ATTEMPTS - 1:
                    raise
                continue
            self.memory.absorb(
                prepared.written, prepared.play_counts, position if prepared.lines.num_rows else watermark
            )
            return prepared, position
        raise AssertionError("unreachable")

    def _stage(self, p: Prepared, origin: str) -> Staged:
        """Everything about a batch's write that does not depend on the batches before it."""
        if not _writes(p):
            return Staged(p)
        kinds = sorted(p.kinds)
        write = UsageWrite("", 0, p.lines, p.quarantine, p.resolved, p.ownership)
        write.looked_up_at, write.looked_up_outside = p.looked_up_at, p.looked_up_outside
        # PostgreSQL: the COPY bytes are built on another thread while this one computes the
        # digest; both are Arrow kernels that run without the GIL, so they take both cores.
        copying = self.stager.submit(write.stage_copy) if self.stager is not None and p.lines.num_rows else None
        batch = UsageBatch(
            source="+".join(sorted(p.sources | {q[1] for q in p.quarantine})),
            kind=kinds[0] if len(kinds) == 1 else ("mixed" if kinds else "none"),
            row_count=p.accepted,
            line_count=p.lines.num_rows,
            rows_sha256=batch_digest(p.lines, p.quarantine, p.resolved),
            totals=dict(sorted(p.totals.items())),
            kinds=dict(sorted(p.kinds.items())),
            pricing_versions=sorted(p.pricing_versions),
            quarantined=dict(p.quarantined),
            owners_acquired=len(p.ownership),
            resolved_quarantine=len(p.resolved),
            listener_key_id=self.hasher.key_id,
            origin=origin,
            actor=self.actor,
        )
        write.batch_hex = batch.id.hex
        if copying is not None:
            copying.result()
        packed = pack(stored_events_of(self.app, batch), write) if self.writer is not None else None
        return Staged(p, batch, write, packed)

    def _commit(self, staged: Staged, watermark: int) -> int:
        """Write a staged batch, provided the usage watermark is still `watermark`."""
        assert staged.batch is not None and staged.write is not None
        if self.writer is not None and staged.packed is not None:
            return self.writer.save_packed(staged.packed, watermark)[0]
        staged.write.expected_watermark = watermark
        recordings = self.app.save(staged.batch, side_writes=[staged.write])
        return int(recordings[0].notification.id)


@dataclass
class Staged:
    """A prepared batch with its event and rows ready to write (none when there is nothing to
    write); `packed` is the same for the writer process, already serialised."""

    prepared: Prepared
    batch: UsageBatch | None = None
    write: UsageWrite | None = None
    packed: bytes | None = None


def _writes(prepared: Prepared) -> bool:
    return bool(prepared.lines.num_rows or prepared.quarantine or prepared.resolved)


def _peek_several(batches: Iterable[RowBatch]) -> tuple[Iterable[RowBatch], bool]:
    """The same batches, and whether there are at least two (worth a second thread)."""
    rows = iter(batches)
    first = next(rows, None)
    if first is None:
        return (), False
    second = next(rows, None)
    if second is None:
        return (first,), False
    return itertools.chain((first, second), rows), True


def _done(value: Any) -> Future[Any]:
    future: Future[Any] = Future()
    future.set_result(value)
    return future


def ingest_files(
    app: RoyaltyLedger,
    paths: Sequence[Path],
    *,
    actor: str,
    source: str = "player",
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
    secret: bytes | None = None,
) -> IngestSummary:
    """Ingest CSV / NDJSON / Parquet files in order; re-running on the same files is a no-op."""
    from ledger.usage.readers import read_batches

    check_text(source, "source", "id")
    run = UsageIngest(app, actor, secret=secret)
    summary = IngestSummary()
    for path in paths:
        run.run(read_batches(Path(path), batch_size, source), str(path), progress, summary)
    return summary


def ingest_rows(
    app: RoyaltyLedger,
    rows: Iterable[dict[str, Any]],
    *,
    actor: str,
    source: str = "player",
    batch_size: int = DEFAULT_BATCH_SIZE,
    secret: bytes | None = None,
    origin: str = "api",
) -> IngestSummary:
    """Ingest rows given as dicts (an API request body), in batches of `batch_size`."""
    check_text(source, "source", "id")
    run = UsageIngest(app, actor, secret=secret)

    def batches() -> Iterable[RowBatch]:
        chunk: list[dict[str, Any]] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) == batch_size:
                yield normalise_dicts(chunk, source)
                chunk = []
        if chunk:
            yield normalise_dicts(chunk, source)

    return run.run(batches(), origin)
