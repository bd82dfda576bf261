"""Reading untrusted XML: no DTD, no entities, no network, bounded node sizes, streamed.

A DDEX message never needs a DTD. Refusing any DOCTYPE outright closes both classic attacks:
entity-expansion bombs ("billion laughs") and external entities (XXE, e.g. file:///etc/passwd).
lxml is also told never to resolve entities, load a DTD or touch the network, and keeps its
default limits on text node size and depth (huge_tree=False), so refusal never depends on one
setting alone.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from lxml import etree

XmlSource = str | Path | bytes | BinaryIO


class DeliveryError(ValueError):
    """A delivered file that cannot be read at all; the message says what to fix."""


class UnsafeXml(DeliveryError):
    """The file declares a DTD or entities: refused before any of it is expanded or fetched."""


class MalformedXml(DeliveryError):
    """Not well-formed XML (or not XML at all)."""


class UnsupportedMessage(DeliveryError):
    """Well-formed XML, but not a DDEX message type this importer reads."""


def _open(source: XmlSource) -> str | BinaryIO:
    if isinstance(source, bytes):
        return io.BytesIO(source)
    if isinstance(source, Path):
        return str(source)
    return source


def _refuse_doctype(element: etree._Element) -> None:
    docinfo = element.getroottree().docinfo
    if not docinfo.doctype and docinfo.internalDTD is None and docinfo.externalDTD is None:
        return
    dtd = docinfo.internalDTD
    entities = list(dtd.iterentities()) if dtd is not None else []
    external = [e for e in entities if e.system_url or e.content is None]
    if external:
        url = external[0].system_url or "(external)"
        raise UnsafeXml(f"refused: the DTD declares an external entity ({url}); XXE is not allowed")
    if entities:
        raise UnsafeXml(f"refused: the DTD declares {len(entities)} entities; entity expansion is not allowed")
    raise UnsafeXml("refused: DOCTYPE declarations are not allowed in a delivery")


def safe_iterparse(source: XmlSource, tags: Sequence[str] | None = None) -> Iterator[tuple[str, etree._Element]]:
    """("root", root) once, then ("start" | "end", element) for elements named in `tags`.

    Name the root elements you expect in `tags` too: their start event is where the DOCTYPE is
    refused, before any content is parsed.

    Filtering by tag happens inside libxml2, so a reader that only wants a few composites does
    not pay for an event per element. Raises UnsafeXml / MalformedXml with a clear reason.
    """
    events = etree.iterparse(
        _open(source),
        events=("start", "end"),
        tag=tags,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    root_seen = False
    try:
        for event, element in events:
            if not root_seen:
                yield "root", _checked_root(element.getroottree().getroot())
                root_seen = True
            yield event, element
    except etree.XMLSyntaxError as exc:
        message = str(exc.msg or exc)
        if "amplification" in message or "entity" in message.lower():
            # libxml2's own bomb guard fired before our DOCTYPE check saw the root.
            raise UnsafeXml(f"refused: entity expansion is not allowed ({message})") from None
        raise MalformedXml(f"not well-formed XML: {message}") from None
    if not root_seen:
        if events.root is None:
            raise MalformedXml("not well-formed XML: the file is empty")
        yield "root", _checked_root(events.root)


def _checked_root(root: etree._Element) -> etree._Element:
    _refuse_doctype(root)
    return root


def local_name(tag: object) -> str:
    """The tag without its namespace: ERN root elements are qualified, children usually not."""
    return str(tag).rpartition("}")[2]


def namespace(tag: object) -> str:
    text = str(tag)
    return text[1:].partition("}")[0] if text.startswith("{") else ""
