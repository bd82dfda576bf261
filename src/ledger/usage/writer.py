"""SQLite usage batches written by a child process while this one prepares the next batch.

SQLite writes in the calling process, so a thread preparing the next batch fights the writer
for the GIL (measured: inserts 3-4x slower). A child process that only inserts runs on another
core instead: the events are mapped to stored events here (this application's mapper, so the
bytes are the ones `app.save` would store), the rows are pickled across, and the child runs the
transaction `app.save` would run — events, then the side writes, then commit — so a batch is
all in or all out whichever process dies. WAL lets this process read while the child writes.
If this process is killed, the child sees the pipe close and stops after its current batch,
which is whole either way.
"""

from __future__ import annotations

import dataclasses
import pickle
import subprocess
import sys
from collections.abc import Mapping, Sequence
from typing import IO, Any

import pyarrow as pa
from eventsourcing.persistence import StoredEvent

from ledger.store.config import StoreConfig
from ledger.usage.lines import empty_lines
from ledger.usage.store import SqliteRows, UsageWrite


class WriterDied(RuntimeError):
    """The writer process ended without answering."""


class ProcessWriter:
    """One child process with its own connection to the SQLite store, inserting batches in order.

    A plain `python -m ledger.usage.writer` over pipes (pickles both ways), not multiprocessing:
    the child never inherits open connections or threads, and never re-imports the caller's
    main module."""

    def __init__(self, config: StoreConfig, env: Mapping[str, str]) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "ledger.usage.writer"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        assert self._process.stdin is not None and self._process.stdout is not None
        self._to, self._from = self._process.stdin, self._process.stdout
        self._send((config, dict(env)))

    def _send(self, message: Any) -> None:
        try:
            pickle.dump(message, self._to, protocol=pickle.HIGHEST_PROTOCOL)
            self._to.flush()
        except OSError:
            raise WriterDied(f"the usage writer process exited (code {self._process.poll()})") from None

    def save(self, stored_events: Sequence[StoredEvent], write: UsageWrite) -> list[int]:
        """Insert the events and the batch's rows in one transaction; their positions."""
        return self.save_packed(pack(stored_events, write), write.expected_watermark)

    def save_packed(self, packed: bytes, expected_watermark: int) -> list[int]:
        """`save` for a batch `pack`ed beforehand (on the thread that prepared it), written
        only while the usage watermark is `expected_watermark`."""
        self._send((expected_watermark, packed))
        try:
            status, value = pickle.load(self._from)  # noqa: S301 - our own child, private pipe
        except EOFError:
            raise WriterDied(f"the usage writer process exited (code {self._process.wait()})") from None
        if status == "ok":
            return list(value)
        raise value

    def close(self) -> None:
        try:
            self._send(None)
            self._to.close()
        except (WriterDied, OSError):
            pass
        try:
            self._process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._from.close()


def serve(inbox: IO[bytes], outbox: IO[bytes]) -> None:
    """The child: open the store, then insert each batch received until told to stop (None) or
    the parent is gone (end of input)."""
    from ledger.application import RoyaltyLedger

    config, env = pickle.load(inbox)  # noqa: S301 - from our parent, private pipe
    app = RoyaltyLedger(config, env=env)
    listener_ids: dict[bytes, int] = {}  # this one store's, for this process's life
    try:
        while True:
            try:
                job = pickle.load(inbox)  # noqa: S301 - from our parent, private pipe
            except EOFError:
                return
            if job is None:
                return
            expected_watermark, packed = job
            stored_events, write = unpack(packed)
            write.expected_watermark = expected_watermark
            write.listener_ids = listener_ids
            try:
                positions = app.recorder.insert_events(stored_events, side_writes=[write])
            except Exception as exc:  # handed to the parent, which decides (retry or fail)
                answer: tuple[str, Any] = ("error", _portable(exc))
            else:
                answer = ("ok", list(positions or ()))
            pickle.dump(answer, outbox, protocol=pickle.HIGHEST_PROTOCOL)
            outbox.flush()
    finally:
        app.close()


def pack(stored_events: Sequence[StoredEvent], write: UsageWrite) -> bytes:
    """A batch serialised for the writer process (its watermark is sent with it, apart).

    The lines go as the lean table's columns, built here (`stage_sqlite`: keys, codes, BLOB
    hashes, the batch's distinct listeners and constant columns apart), on the thread that
    stages the batch: the writer process bounds the ingest, so it only binds and inserts. They
    go as an Arrow IPC stream: their buffers as they are, no object per value."""
    write.stage_sqlite()
    assert write.sqlite_rows is not None
    rows = write.sqlite_rows
    rest = dataclasses.replace(
        write, lines=empty_lines(), sqlite_rows=SqliteRows(rows.varying.schema.empty_table(), {})
    )
    head = pickle.dumps((list(stored_events), rest, rows.constants, rows.listeners), protocol=pickle.HIGHEST_PROTOCOL)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, rows.varying.schema) as stream:
        stream.write_table(rows.varying)
    return pickle.dumps((head, sink.getvalue().to_pybytes()), protocol=pickle.HIGHEST_PROTOCOL)


def unpack(packed: bytes) -> tuple[list[StoredEvent], UsageWrite]:
    head, varying = pickle.loads(packed)  # noqa: S301 - from our parent, private pipe
    stored_events, write, constants, listeners = pickle.loads(head)  # noqa: S301 - from our parent, private pipe
    write.sqlite_rows = SqliteRows(pa.ipc.open_stream(varying).read_all(), constants, listeners)
    return stored_events, write


def _portable(exc: Exception) -> Exception:
    """The exception itself when it survives pickling, else a RuntimeError that says what it was."""
    try:
        pickle.loads(pickle.dumps(exc))  # noqa: S301 - our own bytes
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


def stored_events_of(app: Any, aggregate: Any) -> list[StoredEvent]:
    """The aggregate's pending events as the application would store them."""
    return [app.mapper.to_stored_event(event) for event in aggregate.collect_events()]


if __name__ == "__main__":
    serve(sys.stdin.buffer, sys.stdout.buffer)
