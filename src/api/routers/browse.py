"""Catalogue lists and search (releases, recordings, works, parties) and stats rollups.

Lists answer from the catalogue view, a page at a time by key; a party key sees what its
parties are part of, with the same scope as reading one item.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from api.auth import Principal
from api.conflicts import ConflictRetryRoute
from api.deps import PrincipalDep, ReadSideDep, SettingsDep, require
from api.schemas.browse import PartyPage, RecordingPage, ReleasePage, StatsRollupPublic, WorkPage
from api.schemas.common import UtcTime
from ledger.application import NotFound
from ledger.domain.identifiers import parse_territory
from ledger.domain.party import DomainError
from projections import browse, queries, rollups

router = APIRouter(tags=["catalogue"], route_class=ConflictRetryRoute)

StatsReader = Annotated[
    Principal, Depends(require("admin", "accountant", "auditor", "platform", "distributor", "party"))
]
Text = Annotated[str | None, Query(max_length=200)]
Limit = Annotated[int, Query(ge=1, le=browse.MAX_LIMIT)]
Cursor = Annotated[str | None, Query(max_length=400, description="`next_cursor` of the previous page.")]
MinPosition = Annotated[int | None, Query(ge=0, description="Wait until the read model has folded this.")]
Territory = Annotated[str | None, Query(min_length=2, max_length=2)]


def _page(
    read_side: Any,
    settings: Any,
    principal: Principal,
    kind: str,
    filters: browse.Filters,
    cursor: str | None,
    limit: int,
    min_position: int | None,
) -> dict[str, Any]:
    read_side.wait(min_position, ["catalogue"], settings.read_wait_s)
    scope = principal.scope if principal.is_party else None
    try:
        return browse.search(
            read_side.db(), kind, filters, scope=scope, cursor=cursor, limit=limit, at=read_side.app.clock()
        )
    except ValueError as exc:
        raise browse_error(exc) from None


def browse_error(exc: ValueError) -> Exception:
    """A bad filter, cursor or combination: 422 with the reason, never a 500."""
    return DomainError(str(exc))


def _territory(value: str | None) -> str | None:
    return parse_territory(value) if value else None


@router.get("/v1/releases", response_model=ReleasePage)
def list_releases(
    read_side: ReadSideDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    q: Text = None,
    artist: Text = None,
    credit: Text = None,
    role: Text = None,
    label: Text = None,
    identifier: Text = None,
    available_in: Territory = None,
    cursor: Cursor = None,
    limit: Limit = 50,
    min_position: MinPosition = None,
) -> dict[str, Any]:
    """Releases by title or UPC (`q`), a track's artist or credit (party key or name, and
    `role`), label (key or name), identifier (UPC or a track's ISRC) and availability now in a
    territory; a page at a time. A party key sees releases its parties label, delivered or are on."""
    filters = browse.Filters(q, artist, credit, role, label, identifier, _territory(available_in))
    return _page(read_side, settings, principal, "releases", filters, cursor, limit, min_position)


@router.get("/v1/recordings", response_model=RecordingPage)
def list_recordings(
    read_side: ReadSideDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    q: Text = None,
    artist: Text = None,
    credit: Text = None,
    role: Text = None,
    label: Text = None,
    identifier: Text = None,
    available_in: Territory = None,
    cursor: Cursor = None,
    limit: Limit = 50,
    min_position: MinPosition = None,
) -> dict[str, Any]:
    """Recordings by title, artist or ISRC (`q`), display artist, credit (party key or name)
    and role (composer, lyricist, producer, mixer, engineer, performer, …), label, identifier
    (ISRC, a release's UPC, the work's ISWC) and availability now in a territory."""
    filters = browse.Filters(q, artist, credit, role, label, identifier, _territory(available_in))
    return _page(read_side, settings, principal, "recordings", filters, cursor, limit, min_position)


@router.get("/v1/works", response_model=WorkPage)
def list_works(
    read_side: ReadSideDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    q: Text = None,
    artist: Text = None,
    credit: Text = None,
    role: Text = None,
    identifier: Text = None,
    cursor: Cursor = None,
    limit: Limit = 50,
    min_position: MinPosition = None,
) -> dict[str, Any]:
    """Works by title, ISWC or key (`q`), writer (party key or name) and role, a recording's
    artist, identifier (ISWC or a recording's ISRC)."""
    filters = browse.Filters(q, artist, credit, role, None, identifier)
    return _page(read_side, settings, principal, "works", filters, cursor, limit, min_position)


@router.get("/v1/catalogue/parties", response_model=PartyPage)
def search_parties(
    read_side: ReadSideDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    q: Text = None,
    role: Text = None,
    identifier: Text = None,
    cursor: Cursor = None,
    limit: Limit = 50,
    min_position: MinPosition = None,
) -> dict[str, Any]:
    """Parties by name or key (`q`), a credit role they hold on any recording, an identifier
    (ISNI, IPI, DPID); each with how many recordings credit it per role. A party key sees its own."""
    filters = browse.Filters(q, None, None, role, None, identifier)
    return _page(read_side, settings, principal, "parties", filters, cursor, limit, min_position)


@router.get("/v1/stats", response_model=StatsRollupPublic)
def stats_rollup(
    principal: StatsReader,
    read_side: ReadSideDep,
    settings: SettingsDep,
    by: Annotated[Literal["minute", "hour", "day", "week", "month", "year"], Query()] = "day",
    group: Annotated[Literal["recording", "release", "artist", "territory", "source"] | None, Query()] = None,
    top: Annotated[int | None, Query(ge=1, le=1000)] = None,
    isrc: Annotated[str | None, Query(max_length=15)] = None,
    upc: Annotated[str | None, Query(max_length=14)] = None,
    party: Annotated[str | None, Query(max_length=100)] = None,
    artist: Text = None,
    territory: Territory = None,
    source: Annotated[str | None, Query(max_length=100)] = None,
    start: UtcTime | None = None,
    end: UtcTime | None = None,
    min_position: MinPosition = None,
) -> dict[str, Any]:
    """Plays, counted plays, units and gross per minute, hour, day, week (from Monday), month
    or year — of a recording, a release, a party's catalogue, an artist or everything in scope —
    optionally grouped by recording, release, artist, territory or source and ranked (`top`).
    An unknown ISRC, UPC, party or artist is a 404. A party key counts only recordings its
    parties are part of."""
    read_side.wait(min_position, ["stats", "catalogue"], settings.read_wait_s)
    db = read_side.db()
    given = [v for v in (isrc, upc, party, artist) if v]
    if len(given) > 1:
        raise browse_error(ValueError("give at most one of isrc, upc, party, artist"))
    try:
        if isrc or upc:
            _, isrcs, _ = rollups.resolve_subject(db, str(isrc or upc))
        elif party:
            if not db.execute("SELECT 1 FROM cat_parties WHERE party_key = ?", [party]):
                raise rollups.UnknownSubject(f"unknown party: {party}")
            if principal.is_party and party not in principal.scope:
                raise rollups.UnknownSubject(f"unknown party: {party}")
            isrcs = queries.party_catalogue(db, party)
        elif artist:
            isrcs = rollups.artist_recordings(db, artist)
        else:
            isrcs = None
    except rollups.UnknownSubject as exc:
        raise NotFound(str(exc)) from None
    if principal.is_party:
        visible = {i for p in principal.scope for i in queries.party_catalogue(db, p)}
        if isrcs is not None and (isrc or upc) and not set(isrcs) & visible:
            raise NotFound(f"{'recording ' + str(isrc) if isrc else 'release ' + str(upc)}: not found")
        isrcs = sorted(visible if isrcs is None else set(isrcs) & visible)
    try:
        return rollups.stats(
            db,
            by=by,
            group=group,
            isrcs=isrcs,
            territory=_territory(territory),
            source=source,
            start=start,
            end=end,
            top=top,
        )
    except ValueError as exc:
        raise browse_error(exc) from None
