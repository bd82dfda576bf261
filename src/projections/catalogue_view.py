"""The catalogue read model: parties, works, recordings, credits, releases, splits, availability.

Each batch replays its catalogue events onto the aggregates they belong to, with the domain's
own event classes (no second copy of the folding rules), then writes one row per touched
aggregate with its state as of its last event in the batch. Aggregates are cached between
batches and loaded at the version just before a batch when not cached.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from datetime import date, datetime
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from ledger.domain.audio import AudioAsset
from ledger.domain.party import Party
from ledger.domain.recording import Recording
from ledger.domain.release import Release
from ledger.domain.split_agreement import SplitAgreement
from ledger.domain.work import Work
from projections.catalogue_audio import latest_status, write_asset
from projections.db import ViewDB
from projections.readmodel import Batch, ReadModel

TOPIC_PREFIXES = tuple(
    f"{cls.__module__}:{cls.__qualname__}." for cls in (Party, Work, Recording, Release, SplitAgreement, AudioAsset)
)
CACHE_SIZE = 20_000
_COLUMNS = {
    "cat_parties": ("party_key", "name", "kinds", "identifiers", "verification", "managed_by", "position"),
    "cat_works": ("work_key", "title", "iswc", "writers", "position"),
    "cat_recordings": (
        "isrc",
        "title",
        "display_artist",
        "duration_ms",
        "work_key",
        "audio_status",
        "availability",
        "position",
    ),
    "cat_credits": ("isrc", "party_key", "role"),
    "cat_releases": (
        "upc",
        "title",
        "label_key",
        "release_type",
        "release_date",
        "status",
        "delivered_by",
        "territories",
        "availability",
        "position",
    ),
    "cat_release_tracks": ("upc", "track_no", "isrc"),
    "cat_split_versions": (
        "right_type",
        "subject_key",
        "version",
        "status",
        "kind",
        "effective_from_us",
        "activation_seq",
        "shares",
        "position",
    ),
    "cat_split_holders": ("right_type", "subject_key", "party_key"),
}


def to_json(value: Any) -> str:
    def default(obj: Any) -> Any:
        if isinstance(obj, datetime | date):
            return obj.isoformat()
        raise TypeError(type(obj).__name__)

    return json.dumps(value, default=default, sort_keys=True, separators=(",", ":"))


def epoch_us(at: datetime) -> int:
    delta = at - datetime(1970, 1, 1, tzinfo=at.tzinfo)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


class CatalogueView(ReadModel):
    name = "catalogue"
    tables: ClassVar[tuple[str, ...]] = (
        "cat_parties",
        "cat_works",
        "cat_recordings",
        "cat_credits",
        "cat_releases",
        "cat_release_tracks",
        "cat_split_versions",
        "cat_split_holders",
        "cat_audio",
    )

    def __init__(self, app: Any, *, rebuild: bool = False) -> None:
        super().__init__(app, rebuild=rebuild)
        self._cache: OrderedDict[UUID, Aggregate] = OrderedDict()

    def reset_caches(self) -> None:
        self._cache.clear()

    def fold(self, db: ViewDB, batch: Batch) -> None:
        touched: dict[UUID, tuple[Aggregate, int]] = {}
        self._uploaded_at: dict[UUID, int] = {}  # AudioAssets created in this batch
        for n in batch.notifications:
            if not n.topic.startswith(TOPIC_PREFIXES):
                continue
            event = self.app.decode(n)
            origin = UUID(str(n.originator_id))
            aggregate = self._before(origin, n.originator_version)
            aggregate = event.mutate(aggregate)
            self._remember(origin, aggregate)
            touched[origin] = (aggregate, n.id)
            if n.originator_version == 1 and isinstance(aggregate, AudioAsset):
                self._uploaded_at[origin] = n.id
        self._pending: dict[tuple[str, str], tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]] = {}
        for aggregate, position in touched.values():
            self._write(db, aggregate, position)
        self._flush(db)

    def _before(self, aggregate_id: UUID, version: int) -> Aggregate | None:
        if version == 1:
            return None
        cached = self._cache.get(aggregate_id)
        if cached is not None and cached.version == version - 1:
            return cached
        return self.app.repository.get(aggregate_id, version=version - 1)  # type: ignore[no-any-return]

    def _remember(self, aggregate_id: UUID, aggregate: Aggregate) -> None:
        self._cache[aggregate_id] = aggregate
        self._cache.move_to_end(aggregate_id)
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)

    def _replace(
        self, db: ViewDB, table: str, key_cols: str, key: tuple[Any, ...], rows: list[tuple[Any, ...]]
    ) -> None:
        """Queue "delete the rows with this key, insert these": one statement per table per batch."""
        keys, inserts = self._pending.setdefault((table, key_cols), ([], []))
        keys.append(key)
        inserts.extend(rows)

    def _flush(self, db: ViewDB) -> None:
        for (table, key_cols), (keys, rows) in self._pending.items():
            where = " AND ".join(f"{c} = ?" for c in key_cols.split(","))
            db.executemany(f"DELETE FROM {self.t[table]} WHERE {where}", keys)
            if rows:
                db.copy_rows(self.t[table], _COLUMNS[table], rows)
        self._pending.clear()

    def _write(self, db: ViewDB, agg: Aggregate, position: int) -> None:
        if isinstance(agg, Party):
            row: tuple[Any, ...] = (
                agg.key,
                agg.name,
                to_json(agg.kinds),
                to_json(agg.identifiers),
                agg.verification,
                to_json(agg.managed_by),
                position,
            )
            self._replace(db, "cat_parties", "party_key", (agg.key,), [row])
        elif isinstance(agg, Work):
            row = (agg.key, agg.title, agg.iswc, to_json(agg.writers), position)
            self._replace(db, "cat_works", "work_key", (agg.key,), [row])
        elif isinstance(agg, Recording):
            self._write_recording(db, agg, position)
        elif isinstance(agg, Release):
            self._write_release(db, agg, position)
        elif isinstance(agg, SplitAgreement):
            self._write_split(db, agg, position)
        elif isinstance(agg, AudioAsset):
            self._flush(db)  # the asset's status update must see its recording's row
            write_asset(db, self.t, agg, self._uploaded_at.get(agg.id), position)

    def _write_recording(self, db: ViewDB, rec: Recording, position: int) -> None:
        row = (
            rec.isrc,
            rec.title,
            rec.display_artist,
            rec.duration_ms,
            rec.work_key,
            latest_status(db, self.t, rec.isrc),
            to_json(rec.availability),
            position,
        )
        self._replace(db, "cat_recordings", "isrc", (rec.isrc,), [row])
        credits = sorted({(rec.isrc, c["party"], c["role"]) for c in rec.credits})
        self._replace(db, "cat_credits", "isrc", (rec.isrc,), credits)

    def _write_release(self, db: ViewDB, rel: Release, position: int) -> None:
        row = (
            rel.upc,
            rel.title,
            rel.label_key,
            rel.release_type,
            rel.release_date.isoformat() if rel.release_date is not None else "",  # "" = undated
            rel.status,
            rel.delivered_by,
            to_json(rel.territories),
            to_json(rel.availability),
            position,
        )
        self._replace(db, "cat_releases", "upc", (rel.upc,), [row])
        tracks = [(rel.upc, n, isrc) for n, isrc in enumerate(rel.track_isrcs, start=1)]
        self._replace(db, "cat_release_tracks", "upc", (rel.upc,), tracks)

    def _write_split(self, db: ViewDB, agreement: SplitAgreement, position: int) -> None:
        key = (agreement.right, agreement.subject_key)
        versions = [
            (
                *key,
                v["version"],
                v["status"],
                v["kind"],
                epoch_us(v["effective_from"]),
                v["activation_seq"],
                to_json(v["shares"]),
                position,
            )
            for v in agreement.versions
        ]
        self._replace(db, "cat_split_versions", "right_type,subject_key", key, versions)
        holders = sorted(
            {(*key, party) for v in agreement.versions if v["status"] == "active" for party in v["shares"]}
        )
        self._replace(db, "cat_split_holders", "right_type,subject_key", key, holders)
