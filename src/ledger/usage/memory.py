"""What one ingest run has written, so its later batches need not ask the store again.

- Ids this run wrote are known duplicates-or-conflicts without a lookup. While the run is
  optimistic it skips the store lookup for other ids too: the primary key still refuses a
  known id, the batch rolls back, and the run turns to looking every id up (so a re-ingest
  costs one wasted attempt, a fresh file no lookups at all).
- Stream2own play counts per (listener, recording): the store's count as last seen plus this
  run's plays; valid only while no other writer has added usage since this run's last batch
  (the usage watermark tells), else forgotten.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_REMEMBERED = 500_000  # entries per memo (≈ 100-150 MB of ids with their payload hashes)


@dataclass
class RunMemory:
    optimistic: bool = True
    written: dict[tuple[str, str], str] = field(default_factory=dict)  # (source, id) → payload
    play_counts: dict[tuple[str, str], int] = field(default_factory=dict)
    last_watermark: int | None = None

    def check(self, watermark: int) -> None:
        """Before a batch: forget play counts if someone else wrote usage since our last batch."""
        if watermark != self.last_watermark:
            self.play_counts.clear()
            self.last_watermark = watermark

    def conflict(self) -> None:
        """The store refused a batch (a known id, or another writer): forget everything that
        may not have been written, and look every id up from now on."""
        self.optimistic = False
        self.written.clear()
        self.play_counts.clear()
        self.last_watermark = None

    def remember(self, written: dict[tuple[str, str], str], counts: dict[tuple[str, str], int]) -> None:
        # Bounded: forgetting is always safe (the store is asked again, or the primary key
        # refuses a known id), so a run of any length stays within a fixed memory budget.
        if len(self.written) + len(written) > MAX_REMEMBERED:
            self.written.clear()
        if len(self.play_counts) + len(counts) > MAX_REMEMBERED:
            self.play_counts.clear()
        self.written.update(written)
        self.play_counts.update(counts)

    def absorb(self, written: dict[tuple[str, str], str], counts: dict[tuple[str, str], int], watermark: int) -> None:
        self.remember(written, counts)
        self.last_watermark = watermark
