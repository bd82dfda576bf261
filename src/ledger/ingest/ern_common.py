"""ERN composites that read the same in 3.8.2 and 4.3: header, deals, resource order, purges."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from ledger.ingest.assembly import MessageParts
from ledger.ingest.delivery import DealSummary, MessageKind, Takedown
from ledger.ingest.fields import (
    Element,
    flag,
    iso_date,
    release_children,
    release_ids,
    territory_code,
    text,
    texts,
    utc_datetime,
)
from ledger.ingest.xml_safety import local_name

Handler = Callable[[Element, MessageParts], None]


def read_header(header: Element, parts: MessageParts) -> None:
    parts.message_id = text(header, "{*}MessageId") or ""
    parts.sender_dpid = text(header, "{*}MessageSender/{*}PartyId") or ""
    parts.sender_name = text(header, "{*}MessageSender/{*}PartyName/{*}FullName") or ""
    # A message that names an earlier one it follows up (LinkedMessageId) updates what that sent.
    if any((e.text or "").strip() for e in header.iterfind(".//{*}LinkedMessageId")):
        parts.kind = MessageKind.UPDATE
    created = text(header, "{*}MessageCreatedDateTime")
    parts.created_at = utc_datetime(created, assume_utc=False)
    if not parts.message_id:
        parts.problems.append("MessageHeader: MessageId is missing")
    if not parts.sender_dpid:
        parts.problems.append("MessageHeader: MessageSender/PartyId (the sender's DPID) is missing")
    if parts.created_at is None:
        parts.problems.append(
            f"MessageHeader: MessageCreatedDateTime {created!r} is missing, malformed or has no UTC offset"
        )


def _deal_end(period: Element | None) -> datetime | None:
    """When a ValidityPeriod stops: an EndDateTime as given; an EndDate is the last day, inclusive."""
    end_time = text(period, "{*}EndDateTime")
    if end_time:
        return utc_datetime(end_time, assume_utc=True)
    end_date = text(period, "{*}EndDate")
    if not end_date:
        return None
    last_day = utc_datetime(f"{end_date[:10]}T00:00:00", assume_utc=True)
    return last_day + timedelta(days=1) if last_day else None


def read_deal_terms(terms: Element, path: str = "") -> DealSummary:
    """DealTerms; 3.8 nests UseType in Usage, 4.x puts it directly in DealTerms."""
    period = terms.find("{*}ValidityPeriod")
    starts = text(period, "{*}StartDate") or text(period, "{*}StartDateTime")
    takedown = flag(terms, "{*}TakeDown")
    ends_at = _deal_end(period)
    if takedown and ends_at is None and starts:
        # A 3.8 TakeDown deal names when it takes effect as the start of its validity period.
        ends_at = utc_datetime(starts if "T" in starts else f"{starts}T00:00:00", assume_utc=True)
    territories = tuple(territory_code(t) for t in texts(terms, "{*}TerritoryCode"))
    excluded = tuple(territory_code(t) for t in texts(terms, "{*}ExcludedTerritoryCode"))
    return DealSummary(
        commercial_models=tuple(texts(terms, "{*}CommercialModelType")),
        use_types=tuple(texts(terms, "{*}UseType") + texts(terms, "{*}Usage/{*}UseType")),
        # Only exclusions given: the deal is worldwide except those.
        territories=territories or (("WW",) if excluded else ()),
        excluded_territories=excluded,
        starts_on=iso_date(starts),
        ends_at=ends_at,
        takedown=takedown or ends_at is not None,
        path=path,
    )


def read_release_deal(element: Element, parts: MessageParts) -> None:
    where = "DealList/" + parts.path("ReleaseDeal")
    refs = texts(element, "{*}DealReleaseReference")
    deals = [
        read_deal_terms(t, f"{where}/Deal[{n}]/DealTerms")
        for n, t in enumerate(element.iterfind("{*}Deal/{*}DealTerms"), start=1)
    ]
    for ref in refs:
        parts.deals.setdefault(ref, []).extend(deals)


def read_purged_release(element: Element, parts: MessageParts) -> None:
    """A purge is a worldwide takedown of the release, whichever of its ids the sender names."""
    where = parts.path("PurgedRelease")
    upc, grid, proprietary = release_ids(element.findall("{*}ReleaseId"))
    if not (upc or grid or proprietary):
        parts.problems.append(f"{where}/ReleaseId: no ICPN, GRid or ProprietaryId names the release")
    parts.takedowns.append(
        Takedown(
            upc=upc,
            grid=grid,
            proprietary_ids=proprietary,
            effective_at=parts.created_at,
            reason="purge",
            path=where,
        )
    )


def resource_order(group: Element) -> list[str]:
    """Resource references of a ResourceGroup tree, each level in SequenceNumber order."""
    entries: list[tuple[tuple[int, int], list[str]]] = []
    for index, child in enumerate(group):
        name = local_name(child.tag)
        sequence = text(child, "{*}SequenceNumber") or "0"
        key = (int(sequence) if sequence.isascii() and sequence.isdigit() else 0, index)
        if name == "ResourceGroup":
            entries.append((key, resource_order(child)))
        elif name == "ResourceGroupContentItem":
            ref = text(child, "{*}ReleaseResourceReference")
            entries.append((key, [ref] if ref else []))
    return [ref for _, refs in sorted(entries) for ref in refs]


def dispatch(events: Iterator[tuple[str, Element]], parts: MessageParts, handlers: dict[str, Handler]) -> None:
    """Hand each finished composite to its handler, then drop it from the tree."""
    for event, element in events:
        if event != "end":
            continue
        tag = element.tag
        name = tag.rpartition("}")[2] if isinstance(tag, str) else ""
        handler = handlers.get(name)
        if handler is not None:
            handler(element, parts)
            release_children(element)
        elif name in OTHER_RESOURCES and _in_resource_list(element):
            ref = text(element, "{*}ResourceReference")
            if ref:
                parts.other_resources.add(ref)
            release_children(element)


# Images, videos, texts: not tracks, but a release may list them (e.g. the cover image).
OTHER_RESOURCES = frozenset({"Image", "Video", "Text", "SheetMusic", "Software", "MIDI"})


def _in_resource_list(element: Element) -> bool:
    parent = element.getparent()
    return parent is not None and local_name(parent.tag) == "ResourceList"


def read_update_indicator(element: Element, parts: MessageParts) -> None:
    """ERN 3.x: UpdateIndicator = UpdateMessage. The release is matched by its ids either way."""
    if (element.text or "").strip() == "UpdateMessage":
        parts.kind = MessageKind.UPDATE


COMMON_HANDLERS: dict[str, Handler] = {
    "MessageHeader": read_header,
    "UpdateIndicator": read_update_indicator,
    "ReleaseDeal": read_release_deal,
    "PurgedRelease": read_purged_release,
}
