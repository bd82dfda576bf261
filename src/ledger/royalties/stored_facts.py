"""The rights history's split versions and recordings from the tables the database keeps as the
events are written (migration 0036), instead of decoding every such event's JSON.

`rights_split_versions` holds one row per activation (SplitVersionActivated or Established) at
its position, with its proposal's shares, effective_from and kind and its agreement's subject:
exactly the `VersionFact` the event fold appends, in the same (position) order. The rows of
`rights_recording_facts` go through the fold's own `_recording`. The fold's working state is
filled too — every agreement's subject and each proposal not yet activated — so a history read
this way can be continued by folding events (`RightsHistory.fold`, the earnings read model).
`stored_facts_problems` compares the tables with a fold of the log (`royalty audit verify`).
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.utils import get_topic

from ledger.domain.recording import Recording
from ledger.domain.split_agreement import SplitAgreement
from ledger.store.config import StoreConfig
from ledger.store.migrate import pg_conninfo

# The events the tables stand for: read_rights_history leaves them out of its event read.
# (Event classes are made by eventsourcing's @event decorator: the type checker cannot see them.)
STORED_EVENTS: tuple[tuple[type, str], ...] = (
    (SplitAgreement, "Opened"),
    (SplitAgreement, "SplitVersionProposed"),
    (SplitAgreement, "SplitVersionActivated"),
    (SplitAgreement, "Established"),
    (Recording, "Registered"),
    (Recording, "DetailsUpdated"),
)
STORED_TOPICS: frozenset[str] = frozenset(get_topic(getattr(cls, name)) for cls, name in STORED_EVENTS)

_VERSIONS = (
    "SELECT position, right_type, subject_key, version, shares, effective_from, kind "
    "FROM rights_split_versions WHERE position >= {p} AND position <= {p} ORDER BY position"
)
_RECORDINGS = (
    "SELECT position, recording_id, isrc, title, work_key "
    "FROM rights_recording_facts WHERE position >= {p} AND position <= {p} ORDER BY position"
)
_SUBJECTS = (
    "SELECT agreement_id, right_type, subject_key FROM rights_split_subjects WHERE position >= {p} AND position <= {p}"
)
# Proposals recorded up to the stop and not activated by then: a later activation folded as an
# event looks its proposal up in the history's working state.
_PENDING = (
    "SELECT p.agreement_id, p.version, p.shares, p.effective_from, p.kind FROM rights_split_proposals p "
    "WHERE p.position >= {p} AND p.position <= {p} AND NOT EXISTS (SELECT 1 FROM rights_split_versions v "
    "WHERE v.agreement_id = p.agreement_id AND v.version = p.version AND v.position <= {p}) "
    "ORDER BY p.position"
)


def load_stored_facts(config: StoreConfig, history: Any, start: int, stop: int) -> None:
    """Fold the stored split versions and recording facts of positions [start, stop] into
    `history` (a RightsHistory), as folding their events in position order would."""
    from ledger.royalties.history import VersionFact, to_us

    recordings, versions, subjects, pending = _fetch(
        config,
        [
            (_RECORDINGS, (start, stop)),
            (_VERSIONS, (start, stop)),
            (_SUBJECTS, (start, stop)),
            (_PENDING, (start, stop, stop)),
        ],
    )
    uuid_of = _uuid_text if config.backend == "sqlite" else str
    isrcs, titles, links = history._isrcs, history.titles, history.work_links
    for position, recording_id, isrc, title, work_key in recordings:  # history._recording, row by row
        recording = uuid_of(recording_id)
        if isrc is not None:  # Registered (DetailsUpdated has no isrc)
            isrcs[recording] = isrc
        key = isrcs[recording]
        if title is not None:
            titles.setdefault(key, []).append((position, str(title)))
        links.setdefault(key, []).append((position, work_key))
    instants: dict[str, int] = {}
    loads, by_subject = json.loads, history.versions
    for position, right, subject, version, shares, effective_from, kind in versions:
        at_us = instants.get(effective_from)
        if at_us is None:
            at_us = instants[effective_from] = to_us(datetime.fromisoformat(effective_from))
        fact = VersionFact(version, tuple(sorted(loads(shares).items())), at_us, position, kind)
        found = by_subject.get((right, subject))
        if found is None:
            by_subject[(right, subject)] = [fact]
        else:
            found.append(fact)
    for agreement, right, subject in subjects:
        history._subjects[uuid_of(agreement)] = (right, subject)
    for agreement, version, shares, effective_from, kind in pending:
        history._proposed[(uuid_of(agreement), version)] = {
            "shares": tuple(sorted(loads(shares).items())),
            "effective_from": datetime.fromisoformat(effective_from),
            "kind": kind,
        }


def _uuid_text(stored: str) -> str:
    # SQLite keeps originator ids as it was given them; the fold keys them as UUID text.
    return str(UUID(stored))


def _fetch(config: StoreConfig, queries: list[tuple[str, tuple[int, ...]]]) -> list[list[tuple[Any, ...]]]:
    """Each query's rows ({p}: a parameter mark), over one connection."""
    if config.backend == "sqlite":
        assert config.sqlite_path is not None
        lite = sqlite3.connect(f"file:{config.sqlite_path}?mode=ro", uri=True, timeout=30)
        try:
            return [lite.execute(text.format(p="?"), params).fetchall() for text, params in queries]
        finally:
            lite.close()
    with psycopg.connect(pg_conninfo(config)) as pg:
        return [pg.execute(text.format(p="%s"), params).fetchall() for text, params in queries]


def stored_facts_problems(config: StoreConfig, upto: int) -> list[str]:
    """Where the stored split versions and recording facts up to `upto` differ from a fold of
    their events (each table's first difference), for `royalty audit verify`; [] when equal."""
    from ledger.royalties.history import _HANDLERS, RightsHistory, _fact
    from ledger.store.log_reader import iter_stored_events

    folded, stored = RightsHistory(), RightsHistory()
    for position, originator_id, topic, state in iter_stored_events(config, sorted(STORED_TOPICS), upto):
        _HANDLERS[_CLASS_OF[topic]](folded, position, _fact(originator_id, state))
    load_stored_facts(config, stored, 1, upto)
    activated = {(a, f.version) for a, subject in folded._subjects.items() for f in folded.versions.get(subject, ())}
    pending = {k: v for k, v in folded._proposed.items() if k not in activated}
    compared: list[tuple[str, dict[Any, Any], dict[Any, Any]]] = [
        ("rights_split_versions", folded.versions, stored.versions),
        ("rights_split_subjects", folded._subjects, stored._subjects),
        ("rights_split_proposals", pending, stored._proposed),
        ("rights_recording_facts", folded._isrcs, stored._isrcs),
        ("rights_recording_facts", folded.work_links, stored.work_links),
        ("rights_recording_facts", folded.titles, stored.titles),
    ]
    problems: list[str] = []
    for name, want, got in compared:
        if want != got:
            first = next(k for k in sorted(want.keys() | got.keys(), key=str) if want.get(k) != got.get(k))
            problem = f"{name} differs from the events it is kept from at {first}"
            if not any(p.startswith(f"{name} ") for p in problems):
                problems.append(problem)
    return problems


_CLASS_OF: dict[str, Any] = {get_topic(getattr(cls, name)): getattr(cls, name) for cls, name in STORED_EVENTS}
