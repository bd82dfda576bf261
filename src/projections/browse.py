"""Catalogue browse and search: releases, recordings, works and parties from the catalogue view,
filtered by text, artist, credit (name and role), label, identifier and availability, a page at a
time behind an opaque cursor.

Pages are ordered by the natural key (UPC, ISRC, work key, party key), so a cursor is the last
key seen and a page never repeats or skips an item when the catalogue grows between pages.
A party-scoped reader passes `scope` (its parties): it sees what those parties are part of.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from projections.db import ViewDB
from projections.queries import as_of, availability, party_catalogue

KINDS = ("releases", "recordings", "works", "parties")
MAX_LIMIT = 200


@dataclass(frozen=True)
class Filters:
    q: str | None = None
    artist: str | None = None
    credit: str | None = None
    role: str | None = None
    label: str | None = None
    identifier: str | None = None
    available_in: str | None = None


def encode_cursor(key: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": key}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        doc = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        after = doc["after"]
    except (ValueError, KeyError, TypeError):
        raise ValueError("cursor: not one this server handed out (pass next_cursor back unchanged)") from None
    if not isinstance(after, str):
        raise ValueError("cursor: not one this server handed out (pass next_cursor back unchanged)")
    return after


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _in(column: str, values: list[str]) -> tuple[str, list[Any]]:
    if not values:
        return "1 = 0", []
    return f"{column} IN ({','.join('?' * len(values))})", list(values)


_CREDITED = (
    "SELECT c.isrc FROM cat_credits c LEFT JOIN cat_parties p ON p.party_key = c.party_key "
    "WHERE (c.party_key = ? OR LOWER(p.name) LIKE ? ESCAPE '\\')"
)
_LABELLED = (
    "SELECT t.isrc FROM cat_release_tracks t JOIN cat_releases l ON l.upc = t.upc "
    "LEFT JOIN cat_parties p ON p.party_key = l.label_key WHERE (l.label_key = ? OR LOWER(p.name) LIKE ? ESCAPE '\\')"
)


def _recording_where(f: Filters, scope: frozenset[str] | None, db: ViewDB) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    if f.q:
        where.append("(LOWER(r.title) LIKE ? ESCAPE '\\' OR LOWER(r.display_artist) LIKE ? ESCAPE '\\' OR r.isrc = ?)")
        params += [_like(f.q), _like(f.q), f.q.upper()]
    if f.artist:
        where.append("LOWER(r.display_artist) LIKE ? ESCAPE '\\'")
        params.append(_like(f.artist))
    if f.credit or f.role:
        sql = _CREDITED if f.credit else "SELECT c.isrc FROM cat_credits c WHERE 1 = 1"
        params += [f.credit, _like(f.credit)] if f.credit else []
        if f.role:
            sql += " AND c.role = ?"
            params.append(f.role)
        where.append(f"r.isrc IN ({sql})")
    if f.label:
        where.append(f"r.isrc IN ({_LABELLED})")
        params += [f.label, _like(f.label)]
    if f.identifier:
        ident = f.identifier.strip().upper()
        where.append(
            "(r.isrc = ? OR r.isrc IN (SELECT isrc FROM cat_release_tracks WHERE upc = ?) "
            "OR r.work_key IN (SELECT work_key FROM cat_works WHERE iswc = ?))"
        )
        params += [ident, ident, ident]
    if scope is not None:
        clause, values = _in("r.isrc", sorted({i for p in scope for i in party_catalogue(db, p)}))
        where.append(clause)
        params += values
    return where, params


def _recordings(db: ViewDB, f: Filters, scope: frozenset[str] | None, after: str | None, n: int) -> list[Any]:
    where, params = _recording_where(f, scope, db)
    if after is not None:
        where.append("r.isrc > ?")
        params.append(after)
    rows = db.execute(
        "SELECT r.isrc, r.title, r.display_artist, r.work_key, r.audio_status FROM cat_recordings r "
        f"WHERE {' AND '.join(where) or '1 = 1'} ORDER BY r.isrc LIMIT {int(n)}",
        params,
    )
    return rows


def _recording_item(db: ViewDB, row: tuple[Any, ...]) -> dict[str, Any]:
    isrc, title, artist, work, audio = row
    credits = db.execute(
        "SELECT c.party_key, p.name, c.role FROM cat_credits c LEFT JOIN cat_parties p ON p.party_key = c.party_key "
        "WHERE c.isrc = ? ORDER BY c.role, c.party_key",
        [isrc],
    )
    releases = db.execute("SELECT upc FROM cat_release_tracks WHERE isrc = ? ORDER BY upc", [isrc])
    return {
        "key": isrc,
        "isrc": isrc,
        "title": title,
        "display_artist": artist,
        "work_key": work,
        "audio_status": audio,
        "credits": [{"party": p, "name": name, "role": role} for p, name, role in credits],
        "releases": [u for (u,) in releases],
    }


def _release_where(f: Filters, scope: frozenset[str] | None, db: ViewDB) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    if f.q:
        where.append("(LOWER(l.title) LIKE ? ESCAPE '\\' OR l.upc = ?)")
        params += [_like(f.q), f.q.strip()]
    track_filters = Filters(artist=f.artist, credit=f.credit, role=f.role)
    if f.artist or f.credit or f.role:
        inner, inner_params = _recording_where(track_filters, None, db)
        where.append(
            "l.upc IN (SELECT t.upc FROM cat_release_tracks t JOIN cat_recordings r ON r.isrc = t.isrc "
            f"WHERE {' AND '.join(inner)})"
        )
        params += inner_params
    if f.label:
        where.append(
            "(l.label_key = ? OR l.label_key IN "
            "(SELECT party_key FROM cat_parties WHERE LOWER(name) LIKE ? ESCAPE '\\'))"
        )
        params += [f.label, _like(f.label)]
    if f.identifier:
        ident = f.identifier.strip().upper()
        where.append("(l.upc = ? OR l.upc IN (SELECT upc FROM cat_release_tracks WHERE isrc = ?))")
        params += [ident, ident]
    if scope is not None:
        owned, owned_params = _in("l.label_key", sorted(scope))
        delivered, delivered_params = _in("l.delivered_by", sorted(scope))
        tracks, track_params = _in("isrc", sorted({i for p in scope for i in party_catalogue(db, p)}))
        where.append(f"({owned} OR {delivered} OR l.upc IN (SELECT upc FROM cat_release_tracks WHERE {tracks}))")
        params += owned_params + delivered_params + track_params
    return where, params


def _releases(db: ViewDB, f: Filters, scope: frozenset[str] | None, after: str | None, n: int) -> list[Any]:
    where, params = _release_where(f, scope, db)
    if after is not None:
        where.append("l.upc > ?")
        params.append(after)
    return db.execute(
        "SELECT l.upc, l.title, l.label_key, p.name, l.release_type, l.release_date, l.status, l.territories "
        "FROM cat_releases l LEFT JOIN cat_parties p ON p.party_key = l.label_key "
        f"WHERE {' AND '.join(where) or '1 = 1'} ORDER BY l.upc LIMIT {int(n)}",
        params,
    )


def _release_item(db: ViewDB, row: tuple[Any, ...]) -> dict[str, Any]:
    upc, title, label, label_name, kind, released, status, territories = row
    tracks = db.execute("SELECT isrc FROM cat_release_tracks WHERE upc = ? ORDER BY track_no", [upc])
    return {
        "key": upc,
        "upc": upc,
        "title": title,
        "label_key": label,
        "label_name": label_name,
        "release_type": kind,
        "release_date": released,
        "status": status,
        "territories": json.loads(territories),
        "tracks": [i for (i,) in tracks],
    }


def _works(db: ViewDB, f: Filters, scope: frozenset[str] | None, after: str | None, n: int) -> list[Any]:
    where: list[str] = []
    params: list[Any] = []
    if f.q:
        where.append("(LOWER(w.title) LIKE ? ESCAPE '\\' OR w.iswc = ? OR w.work_key = ?)")
        params += [_like(f.q), f.q.strip().upper(), f.q.strip()]
    if f.identifier:
        where.append("(w.iswc = ? OR w.work_key IN (SELECT work_key FROM cat_recordings WHERE isrc = ?))")
        params += [f.identifier.strip().upper(), f.identifier.strip().upper()]
    if f.artist:
        where.append(
            "w.work_key IN (SELECT work_key FROM cat_recordings WHERE LOWER(display_artist) LIKE ? ESCAPE '\\')"
        )
        params.append(_like(f.artist))
    if after is not None:
        where.append("w.work_key > ?")
        params.append(after)
    return db.execute(
        f"SELECT w.work_key, w.title, w.iswc, w.writers FROM cat_works w WHERE {' AND '.join(where) or '1 = 1'} "
        f"ORDER BY w.work_key LIMIT {int(n)}",
        params,
    )


def _work_item(db: ViewDB, row: tuple[Any, ...]) -> dict[str, Any]:
    key, title, iswc, writers = row
    names = dict(db.execute("SELECT party_key, name FROM cat_parties"))
    return {
        "key": key,
        "work_key": key,
        "title": title,
        "iswc": iswc,
        "writers": [{**w, "name": names.get(w.get("party"))} for w in json.loads(writers)],
    }


def _parties(db: ViewDB, f: Filters, scope: frozenset[str] | None, after: str | None, n: int) -> list[Any]:
    where: list[str] = []
    params: list[Any] = []
    if f.q:
        where.append("(LOWER(p.name) LIKE ? ESCAPE '\\' OR p.party_key = ?)")
        params += [_like(f.q), f.q.strip()]
    if f.role:
        where.append("p.party_key IN (SELECT party_key FROM cat_credits WHERE role = ?)")
        params.append(f.role)
    if f.identifier:
        where.append("p.identifiers LIKE ? ESCAPE '\\'")
        params.append(_like(json.dumps(f.identifier.strip())[1:-1]))
    if scope is not None:
        clause, values = _in("p.party_key", sorted(scope))
        where.append(clause)
        params += values
    if after is not None:
        where.append("p.party_key > ?")
        params.append(after)
    return db.execute(
        f"SELECT p.party_key, p.name, p.kinds, p.identifiers FROM cat_parties p WHERE {' AND '.join(where) or '1 = 1'} "
        f"ORDER BY p.party_key LIMIT {int(n)}",
        params,
    )


def _party_item(db: ViewDB, row: tuple[Any, ...]) -> dict[str, Any]:
    key, name, kinds, identifiers = row
    roles = db.execute("SELECT role, COUNT(*) FROM cat_credits WHERE party_key = ? GROUP BY role ORDER BY role", [key])
    return {
        "key": key,
        "party_key": key,
        "name": name,
        "kinds": json.loads(kinds),
        "identifiers": json.loads(identifiers),
        "credits": {role: int(n) for role, n in roles},
    }


Fetch = Callable[[ViewDB, Filters, "frozenset[str] | None", "str | None", int], list[Any]]
Item = Callable[[ViewDB, tuple[Any, ...]], dict[str, Any]]
_KINDS: dict[str, tuple[Fetch, Item]] = {
    "releases": (_releases, _release_item),
    "recordings": (_recordings, _recording_item),
    "works": (_works, _work_item),
    "parties": (_parties, _party_item),
}


def _work_filter(db: ViewDB, f: Filters, scope: frozenset[str] | None) -> Callable[[dict[str, Any]], bool]:
    scoped = None
    if scope is not None:
        held = db.execute(
            "SELECT subject_key, party_key FROM cat_split_holders WHERE right_type = 'publishing'",
        )
        scoped = {str(s) for s, p in held if p in scope}

    def keep(item: dict[str, Any]) -> bool:
        writers = item["writers"]
        if scoped is not None and item["work_key"] not in scoped and not any(w["party"] in scope for w in writers):  # type: ignore[operator]
            return False
        if f.credit:
            needle = f.credit.lower()
            writers = [w for w in writers if w["party"] == f.credit or needle in str(w.get("name") or "").lower()]
        if f.role:
            writers = [w for w in writers if w.get("role") == f.role]
        return bool(writers) if (f.credit or f.role) else True

    return keep


def _available(db: ViewDB, kind: str, territory: str, at: datetime) -> Callable[[dict[str, Any]], bool]:
    def keep(item: dict[str, Any]) -> bool:
        if kind == "recordings":
            item["availability"] = availability(db, item["isrc"], territory, at)
        else:
            found = [availability(db, isrc, territory, at) for isrc in item["tracks"]]
            live = [a for a in found if a.get("available") and a.get("release") == item["upc"]]
            item["availability"] = {"available": bool(live)} | ({} if live else {"reason": "no track available"})
        return bool(item["availability"]["available"])

    return keep


def search(
    db: ViewDB,
    kind: str,
    filters: Filters,
    *,
    scope: frozenset[str] | None = None,
    cursor: str | None = None,
    limit: int = 50,
    at: datetime | None = None,
) -> dict[str, Any]:
    """One page of `kind` matching every filter given; `next_cursor` is None on the last page."""
    if kind not in _KINDS:
        raise ValueError(f"search {kind!r}: expected one of {', '.join(KINDS)}")
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit {limit}: expected 1 to {MAX_LIMIT}")
    if filters.available_in and kind not in ("releases", "recordings"):
        raise ValueError("available_in: only releases and recordings have an availability")
    if filters.available_in and at is None:
        raise ValueError("available_in needs the instant to judge availability at")
    fetch, make = _KINDS[kind]
    checks: list[Callable[[dict[str, Any]], bool]] = []
    if kind == "works":
        checks.append(_work_filter(db, filters, scope))
    if filters.available_in and at is not None:
        checks.append(_available(db, kind, filters.available_in.upper(), at))
    after = decode_cursor(cursor)
    items: list[dict[str, Any]] = []
    # One more than a page tells whether another page follows; filters applied in Python
    # (availability, writers) may need more than one fetch to fill a page.
    while len(items) <= limit:
        rows = fetch(db, filters, scope, after, limit + 1)
        for row in rows:
            item = make(db, row)
            after = item["key"]
            if all(check(item) for check in checks):
                items.append(item)
                if len(items) > limit:
                    break
        if len(rows) <= limit:
            break
    more = len(items) > limit
    items = items[:limit]
    return {
        "kind": kind,
        "as_of": as_of(db, "catalogue"),
        "items": items,
        "next_cursor": encode_cursor(items[-1]["key"]) if more and items else None,
    }
