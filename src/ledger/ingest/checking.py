"""Checking ERN delivery files (safe parse + validation + digest), in worker processes when many.

Checking a file needs nothing from the ledger, so a bulk import hands it to a process pool and
keeps writing in its own process meanwhile: results come back in file order, at most a few
chunks ahead of the writer (memory stays bounded however many files there are).
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import re
from collections import deque
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

from ledger.ingest.delivery import DeliveryMessage
from ledger.ingest.ern import check_ern
from ledger.ingest.report import ValidationReport

Checked = tuple[DeliveryMessage | None, ValidationReport, str]
# Below this many files a pool costs more (its start, ~0.3 s) than it saves.
POOL_MIN_FILES = 200
CHUNK = 16  # files per task: one pickling round trip per chunk, not per file
AHEAD = 8  # chunks in flight per worker
# Checking in a thread of the importing process: files ahead of the writer, about two groups.
THREAD_CHUNK, THREAD_AHEAD = 8, 8


def file_digest(path: Path) -> str:
    """SHA-256 of the delivered bytes, which a delivery receipt records."""
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""


def check_ern_file(path: Path, now: datetime) -> Checked:
    message, report = check_ern(path, source_name=str(path), now=now)
    return message, report, file_digest(path)


def _check_chunk(paths: Sequence[Path], now: datetime) -> list[Checked]:
    return [check_ern_file(p, now) for p in paths]


def pool_workers(files: int) -> int:
    """Worker processes for `files` ERN files: none for a few, else one per spare core (≤ 4).

    ROYALTY_IMPORT_WORKERS overrides it (0: check in the importing process).
    """
    if re.fullmatch(r"[0-9]+", os.environ.get("ROYALTY_IMPORT_WORKERS", "")):
        return int(os.environ["ROYALTY_IMPORT_WORKERS"]) if files >= POOL_MIN_FILES else 0
    if files < POOL_MIN_FILES:
        return 0
    return max(1, min(4, (os.cpu_count() or 1) - 1))


def checked_in_order(
    paths: Sequence[Path], now: Callable[[], datetime], workers: int
) -> Generator[Checked, None, None]:
    """check_ern_file of every path, in order; by `workers` processes when > 0.

    Without workers, a thread of this process checks a few files ahead: it runs while the
    importer waits for the database (a commit releases the GIL), so checking and writing
    overlap there, and nothing else changes (checking is pure).
    """
    if workers <= 0 and len(paths) <= 1:
        yield from (check_ern_file(p, now()) for p in paths)
        return
    pool: Executor
    if workers <= 0:
        size, ahead = THREAD_CHUNK, THREAD_AHEAD
        pool = ThreadPoolExecutor(1, thread_name_prefix="ern-check")
    else:
        size, ahead = CHUNK, AHEAD * workers
        # forkserver: a worker never inherits the importer's open database connections.
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver"))
    chunks = [paths[i : i + size] for i in range(0, len(paths), size)]
    try:
        waiting: deque[Future[list[Checked]]] = deque()
        for chunk in chunks:
            waiting.append(pool.submit(_check_chunk, chunk, now()))
            if len(waiting) >= ahead:
                yield from waiting.popleft().result()
        while waiting:
            yield from waiting.popleft().result()
    finally:
        pool.shutdown(cancel_futures=True)  # also when the importer stops early
