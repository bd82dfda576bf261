"""Parsing bulk ERN deliveries: 10 000 generated ERN 4.3 releases (≈ 100 000 recordings).

Figures, all measured in this run on the same in-memory messages:
  baseline   lxml iterparse alone, same safe settings, every element seen (no model built)
  floor      libxml2 building the tree with no Python per element (etree.fromstring)
  parse      ledger.ingest.ern.parse_ern → DeliveryMessage
  parse+val  parse_ern + validate_message (identifiers, references, splits)
The end-to-end import figure (into the event store) comes with phase 2.
`ROYALTY_BENCH_ERN_RELEASES` changes the count (default 10 000).
"""

from __future__ import annotations

import io
import os

from lxml import etree

from benchmarks.report import Figure, emit, peak_rss_mib, timed
from ledger.ingest.ern import parse_ern
from ledger.ingest.ern_generate import release_messages
from ledger.ingest.validate import validate_message

BENCH = "ern_parse"
TRACKS = 10


def iterparse_only(messages: list[bytes]) -> None:
    for body in messages:
        for _event, element in etree.iterparse(
            io.BytesIO(body),
            events=("end",),
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
        ):
            element.clear()


SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def tree_only(messages: list[bytes]) -> None:
    for body in messages:
        etree.fromstring(body, SAFE_PARSER)


def parse_only(messages: list[bytes]) -> None:
    for body in messages:
        parse_ern(body)


def parse_and_validate(messages: list[bytes]) -> None:
    for body in messages:
        report = validate_message(parse_ern(body))
        if not report.ok:
            raise AssertionError(f"generated release rejected: {report.to_json()}")


def main() -> None:
    count = int(os.environ.get("ROYALTY_BENCH_ERN_RELEASES", "10000"))
    messages = list(release_messages(count, seed=1, tracks=TRACKS))
    megabytes = sum(map(len, messages)) / 1e6
    print(f"[{BENCH}] {count} releases, {count * TRACKS} recordings, {megabytes:.0f} MB of XML")
    tree = count / timed(lambda: tree_only(messages))
    floor = count / timed(lambda: iterparse_only(messages))
    parsed = count / timed(lambda: parse_only(messages))
    validated = count / timed(lambda: parse_and_validate(messages))
    base = "lxml iterparse alone"
    emit(Figure(BENCH, "parse ERN 4.3 -> DeliveryMessage", parsed, "releases/s", base, floor))
    emit(Figure(BENCH, "parse + validate", validated, "releases/s", base, floor))
    emit(Figure(BENCH, "lxml iterparse alone", floor, "releases/s", "libxml2 tree, no Python", tree))
    emit(Figure(BENCH, "parse + validate (recordings)", validated * TRACKS, "recordings/s"))
    emit(Figure(BENCH, "peak RSS (messages held in memory)", peak_rss_mib(), "MiB"))


if __name__ == "__main__":
    main()
