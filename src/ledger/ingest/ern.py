"""Reading DDEX ERN messages (3.8.x and 4.x) safely into a DeliveryMessage.

    message = parse_ern(path)                    # raises DeliveryError when unreadable
    message, report = check_ern(path, now=now)   # never raises on bad input: see the report

The root element's namespace picks the version and its dialect (3.8, 3.8.1, 3.8.2 and 3.8.3 read
as one; 4.1, 4.1.1, 4.2, 4.3, 4.3.1 and 4.3.2 as another); NewReleaseMessage and PurgeReleaseMessage are
read, anything else is refused as an unsupported message type. The file is streamed: each
finished party, resource, work, release and deal is read and dropped from the tree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

from ledger.ingest.assembly import MessageParts, assemble
from ledger.ingest.delivery import DeliveryMessage, MessageKind
from ledger.ingest.ern_common import OTHER_RESOURCES
from ledger.ingest.ern_v43 import HANDLERS as HANDLERS_V43
from ledger.ingest.ern_v43 import read_v43
from ledger.ingest.ern_v382 import HANDLERS as HANDLERS_V382
from ledger.ingest.ern_v382 import read_v382
from ledger.ingest.fields import Element
from ledger.ingest.report import ValidationReport
from ledger.ingest.validate import report_unreadable, validate_message
from ledger.ingest.xml_safety import (
    DeliveryError,
    MalformedXml,
    UnsupportedMessage,
    XmlSource,
    local_name,
    namespace,
    safe_iterparse,
)

Reader = Callable[[Iterator[tuple[str, Element]], MessageParts], None]

_V38: Reader = read_v382
_V4: Reader = read_v43
ERN_VERSIONS: dict[str, tuple[str, Reader]] = {
    "http://ddex.net/xml/ern/38": ("3.8", _V38),
    "http://ddex.net/xml/ern/381": ("3.8.1", _V38),
    "http://ddex.net/xml/ern/382": ("3.8.2", _V38),
    "http://ddex.net/xml/ern/383": ("3.8.3", _V38),
    "http://ddex.net/xml/ern/41": ("4.1", _V4),
    "http://ddex.net/xml/ern/411": ("4.1.1", _V4),
    # DDEX published the 4.1.1 schema under its service host; senders use either.
    "http://service.ddex.net/xml/ern/411": ("4.1.1", _V4),
    "http://ddex.net/xml/ern/42": ("4.2", _V4),
    "http://ddex.net/xml/ern/43": ("4.3", _V4),
    "http://ddex.net/xml/ern/431": ("4.3.1", _V4),
    "http://ddex.net/xml/ern/432": ("4.3.2", _V4),
}
SUPPORTED_VERSIONS = tuple(dict.fromkeys(version for version, _ in ERN_VERSIONS.values()))
MESSAGE_KINDS = {
    "NewReleaseMessage": MessageKind.NEW,
    "PurgeReleaseMessage": MessageKind.TAKEDOWN,
}


def _root(events: Iterator[tuple[str, Element]]) -> Element:
    for _event, element in events:
        return element
    raise MalformedXml("not well-formed XML: no root element")


# Every composite either reader handles; libxml2 filters on these, so nothing else reaches Python.
WANTED = sorted({f"{{*}}{name}" for name in (*MESSAGE_KINDS, *HANDLERS_V382, *HANDLERS_V43, *OTHER_RESOURCES)})


def parse_ern(source: XmlSource) -> DeliveryMessage:
    """Parse one ERN message; raises UnsafeXml, MalformedXml or UnsupportedMessage."""
    events = safe_iterparse(source, WANTED)
    root = _root(events)
    ns, name = namespace(root.tag), local_name(root.tag)
    if ns not in ERN_VERSIONS:
        raise UnsupportedMessage(
            f"unsupported message: <{name}> in namespace {ns or '(none)'} is not a supported DDEX ERN "
            f"version; supported: {', '.join(SUPPORTED_VERSIONS)} (namespaces http://ddex.net/xml/ern/38, "
            "381, 382, 383, 41, 411, 42, 43, 431, 432)"
        )
    if name not in MESSAGE_KINDS:
        raise UnsupportedMessage(
            f"unsupported message type {name}: only NewReleaseMessage and PurgeReleaseMessage are read"
        )
    version, reader = ERN_VERSIONS[ns]
    parts = MessageParts(ern_version=version, kind=MESSAGE_KINDS[name])
    reader(events, parts)
    return assemble(parts)


def check_ern(
    source: XmlSource, *, source_name: str = "", now: datetime | None = None
) -> tuple[DeliveryMessage | None, ValidationReport]:
    """Parse and validate; an unreadable file gives no message and a report saying why."""
    name = source_name or (str(source) if isinstance(source, str | Path) else "")
    try:
        message = parse_ern(source)
    except DeliveryError as exc:
        return None, report_unreadable(name, str(exc))
    return message, validate_message(message, source=name, now=now)
