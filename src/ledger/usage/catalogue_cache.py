"""The catalogue view an ingest checks rows against (and the releases carrying a recording,
for its ownership trail), kept per application and brought up to date from the log instead of
rebuilt per call.

Rebuilding meant reconstructing every Recording and Release aggregate for each ingest — every
API usage post and every Stripe sale webhook — which grows with the catalogue (≈ 30 s at
100 000 recordings). Here the aggregates are kept between calls; a call reads only the
catalogue events recorded since the last one (one bulk read of the log filtered by topic),
reloads the aggregates they belong to, and derives the view again only when one changed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from eventsourcing.domain import DomainEvent
from eventsourcing.utils import get_topic

from ledger.domain.recording import Recording
from ledger.domain.release import Release
from ledger.usage.catalogue_view import CatalogueView

if TYPE_CHECKING:
    from ledger.application import RoyaltyLedger


def event_topics(*aggregate_classes: type) -> list[str]:
    """The topic of every event class an aggregate class can record (its own and inherited)."""
    topics = set()
    for cls in aggregate_classes:
        for name in dir(cls):
            attr = getattr(cls, name)
            if isinstance(attr, type) and issubclass(attr, DomainEvent) and attr.__qualname__.startswith(cls.__name__):
                topics.add(get_topic(attr))
    return sorted(topics)


_TOPICS = event_topics(Recording, Release)


@dataclass
class _Cache:
    upto: int = 0
    # Per recording only its ISRC and, when it has a takedown history, the aggregate (to answer
    # "unavailable here then?"): a catalogue of 100 000 recordings stays small in memory.
    recordings: dict[Any, tuple[str, Recording | None]] = field(default_factory=dict)
    work_of: dict[str, str | None] = field(default_factory=dict)  # ISRC → its work's key
    releases: dict[Any, Release] = field(default_factory=dict)
    view: CatalogueView | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


_CACHES: WeakKeyDictionary[Any, _Cache] = WeakKeyDictionary()
_GUARD = threading.Lock()


def catalogue_view(app: RoyaltyLedger) -> CatalogueView:
    """The catalogue as it stands at the log's head (a view shared by callers: read-only)."""
    with _GUARD:
        cache = _CACHES.setdefault(app, _Cache())
    with cache.lock:
        head = app.head_position()
        if cache.view is not None and head == cache.upto:
            return cache.view
        changed: set[Any] = {n.originator_id for n in app.read_log(cache.upto + 1, stop=head, topics=_TOPICS)}
        for aggregate_id in changed:
            aggregate = app.repository.get(aggregate_id)
            if isinstance(aggregate, Recording):
                cache.recordings[aggregate_id] = (aggregate.isrc, aggregate if aggregate.availability else None)
                cache.work_of[aggregate.isrc] = aggregate.work_key
            elif isinstance(aggregate, Release):
                cache.releases[aggregate_id] = aggregate
        cache.upto = head
        if changed or cache.view is None:
            cache.view = CatalogueView.of(cache.recordings.values(), cache.releases.values())
        return cache.view


def releases_carrying(app: RoyaltyLedger, isrc: str) -> list[str]:
    """UPCs of every release (live or not) with the recording among its tracks, in delivery order."""
    catalogue_view(app)  # brings the kept aggregates up to date
    with _GUARD:
        cache = _CACHES[app]
    with cache.lock:
        return [rel.upc for rel in cache.releases.values() if isrc in rel.track_isrcs]


def recordings_of_work(app: RoyaltyLedger, work_key: str) -> list[str]:
    """ISRCs of every recording linked to the work now."""
    catalogue_view(app)
    with _GUARD:
        cache = _CACHES[app]
    with cache.lock:
        return sorted(isrc for isrc, work in cache.work_of.items() if work == work_key)
