"""What one ingest run has written, so its later batches need not ask the store again.

- Ids this run wrote are known duplicates-or-conflicts without a lookup. While the run is
  optimistic it skips the store lookup for other ids too: the primary key still refuses a
  known id, the batch rolls back, and the run turns to looking every id up (so a re-ingest
  costs one wasted attempt, a fresh file no lookups at all).
- Stream2own play counts per (listener, recording): the store's count as last seen plus this
  run's plays; valid only while no other writer has added usage since this run's last batch
  (the usage watermark tells), else forgotten. A pair is named by a run-local 64-bit number
  (its listener's number in this run, its recording's), so the counts are two sorted numpy
  arrays looked up and merged a batch at a time, not a dict touched once per pair.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

MAX_REMEMBERED = 500_000  # entries per memo (≈ 100-150 MB of ids with their payload hashes)
MAX_NAMED = 2_000_000  # listeners (and recordings) numbered per run before the numbering restarts
_EMPTY = np.zeros(0, dtype=np.int64)


@dataclass
class PlayCounts:
    """Counted stream2own plays per pair: `pairs` (run-local pair numbers, sorted, unique) and
    `counts` beside them."""

    pairs: np.ndarray = field(default_factory=lambda: _EMPTY)
    counts: np.ndarray = field(default_factory=lambda: _EMPTY)

    def __len__(self) -> int:
        return len(self.pairs)

    def find(self, pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each of `pairs`: whether it is here, and its count (0 when not)."""
        if not len(self.pairs):
            return np.zeros(len(pairs), dtype=bool), np.zeros(len(pairs), dtype=np.int64)
        at = np.minimum(np.searchsorted(self.pairs, pairs), len(self.pairs) - 1)
        found = self.pairs[at] == pairs
        return found, np.where(found, self.counts[at], 0)

    def merged(self, other: PlayCounts) -> PlayCounts:
        """These counts with `other`'s (sorted, unique) replacing or added."""
        if not len(self.pairs):
            return other
        if not len(other.pairs):
            return self
        at = np.minimum(np.searchsorted(self.pairs, other.pairs), len(self.pairs) - 1)
        there = self.pairs[at] == other.pairs
        counts = self.counts.copy()
        counts[at[there]] = other.counts[there]
        new = ~there
        where = np.searchsorted(self.pairs, other.pairs[new])
        return PlayCounts(np.insert(self.pairs, where, other.pairs[new]), np.insert(counts, where, other.counts[new]))


@dataclass
class RunMemory:
    optimistic: bool = True
    written: dict[str, str] = field(default_factory=dict)  # "source U+001F id" → payload
    play_counts: PlayCounts = field(default_factory=PlayCounts)
    last_watermark: int | None = None
    # Run-local numbers of listener hashes and recordings, for pair numbers (never forgotten
    # while a pair number is in use: forgetting them forgets the play counts too).
    listeners: dict[str, int] = field(default_factory=dict)
    recordings: dict[str, int] = field(default_factory=dict)

    def check(self, watermark: int) -> None:
        """Before a batch: forget play counts if someone else wrote usage since our last batch."""
        if watermark != self.last_watermark:
            self.play_counts = PlayCounts()
            self.last_watermark = watermark

    def conflict(self) -> None:
        """The store refused a batch (a known id, or another writer): forget everything that
        may not have been written, and look every id up from now on."""
        self.optimistic = False
        self.written.clear()
        self.play_counts = PlayCounts()
        self.last_watermark = None

    def pair_numbers(self, hashes: pa.Array, isrcs: pa.Array) -> np.ndarray:
        """Per row, the run-local number of its (listener hash, isrc) pair; -1 where either is
        missing. Each distinct listener and recording of the batch is looked up once."""
        if len(self.listeners) > MAX_NAMED or len(self.recordings) > MAX_NAMED:
            self.listeners.clear()
            self.recordings.clear()
            self.play_counts = PlayCounts()
        listener = _numbers(hashes, self.listeners)
        recording = _numbers(isrcs, self.recordings)
        return np.where((listener >= 0) & (recording >= 0), (listener << 32) | recording, -1)

    def remember(self, written: dict[str, str], counts: PlayCounts) -> None:
        # Bounded: forgetting is always safe (the store is asked again, or the primary key
        # refuses a known id), so a run of any length stays within a fixed memory budget.
        if len(self.written) + len(written) > MAX_REMEMBERED:
            self.written.clear()
        if len(self.play_counts) + len(counts) > MAX_REMEMBERED:
            self.play_counts = PlayCounts()
        self.written.update(written)
        self.play_counts = self.play_counts.merged(counts)

    def absorb(self, written: dict[str, str], counts: PlayCounts, watermark: int) -> None:
        self.remember(written, counts)
        self.last_watermark = watermark


def _numbers(column: pa.Array, named: dict[str, int]) -> np.ndarray:
    """Per value its number in `named` (new values numbered next), -1 for null."""
    encoded = column.dictionary_encode()
    numbers = np.array([named.setdefault(v, len(named)) for v in encoded.dictionary.to_pylist()] + [-1], dtype=np.int64)
    at = pc.fill_null(encoded.indices, len(numbers) - 1).to_numpy(zero_copy_only=False)
    return numbers[at]  # type: ignore[no-any-return]
