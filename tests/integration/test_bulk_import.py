"""Bulk import: checking files in worker processes changes nothing; the prefetch answers exactly."""

from __future__ import annotations

import gc
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ledger.application import RoyaltyLedger
from ledger.domain.ids import party_id
from ledger.ingest import checking
from ledger.ingest.bulk import BULK_GEN0_THRESHOLD, fewer_collections
from ledger.ingest.ern_generate import write_release_messages
from ledger.ingest.importer import ImportSummary, import_paths
from ledger.store.config import StoreConfig
from ledger.store.existing import existing_ids

NOW = datetime(2025, 9, 1, tzinfo=UTC)
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ern"


@pytest.fixture
def app(store_config: StoreConfig) -> Iterator[RoyaltyLedger]:
    ledger = RoyaltyLedger(store_config, clock=lambda: NOW)
    yield ledger
    ledger.close()


def _log(app: RoyaltyLedger) -> list[tuple[object, int, str]]:
    return [(n.originator_id, n.originator_version, n.topic) for n in app.read_log()]


def test_checking_in_worker_processes_imports_exactly_what_checking_in_process_does(
    app: RoyaltyLedger, memory_app: RoyaltyLedger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = write_release_messages(tmp_path, 12, tracks=3)
    bad = tmp_path / "zz_broken.xml"
    # An ERN 4.3 root with an unclosed element: refused as not well-formed whether libxml2 reports
    # the syntax error before or after the root's start event (lxml 6.2 parses a small file whole).
    bad.write_text('<ern:NewReleaseMessage xmlns:ern="http://ddex.net/xml/ern/43"><unclosed></ern:NewReleaseMessage>')
    # Files are answered in order across chunk boundaries, with fewer chunks in flight than chunks.
    monkeypatch.setattr(checking, "POOL_MIN_FILES", 1)
    monkeypatch.setattr(checking, "CHUNK", 5)
    monkeypatch.setattr(checking, "AHEAD", 1)
    paths = [*files, FIXTURES / "ern43_album.xml", bad]
    monkeypatch.setenv("ROYALTY_IMPORT_WORKERS", "0")
    memory_app.clock = lambda: NOW
    serial = import_paths(memory_app, paths, "test")
    monkeypatch.setenv("ROYALTY_IMPORT_WORKERS", "2")
    chunks: list[int] = []

    class CountingPool(ProcessPoolExecutor):
        def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
            chunks.append(len(args[0]))
            return super().submit(fn, *args, **kwargs)

    monkeypatch.setattr(checking, "ProcessPoolExecutor", CountingPool)
    pooled = import_paths(app, paths, "test")
    assert chunks == [5, 5, 4]  # 14 XML files in chunks of 5, checked by the workers

    def outcome(s: ImportSummary) -> list[dict[str, object]]:
        return [f.to_dict() for f in s.files]

    assert outcome(pooled) == outcome(serial)
    assert pooled.counts()["accepted"] == 13
    assert [f.source for f in pooled.files] == [str(p) for p in paths]
    assert pooled.files[-1].refused and "not well-formed XML" in pooled.files[-1].report.message_errors[0]
    assert _log(app) == _log(memory_app)
    head = app.head_position()
    again = import_paths(app, paths, "test")
    assert app.head_position() == head and again.counts()["unchanged"] == 13


def test_pool_is_used_only_for_many_files(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ROYALTY_IMPORT_WORKERS", raising=False)
    assert checking.pool_workers(checking.POOL_MIN_FILES - 1) == 0
    assert checking.pool_workers(checking.POOL_MIN_FILES) >= 1
    monkeypatch.setenv("ROYALTY_IMPORT_WORKERS", "0")
    assert checking.pool_workers(10 * checking.POOL_MIN_FILES) == 0


def test_existing_ids_answers_exactly_the_stored_ids(app: RoyaltyLedger) -> None:
    keys = [f"party-{n}" for n in range(5)]
    for key in keys:
        app.upsert_party(key, key.title(), ["artist"], "test")
    unknown = {uuid.uuid4() for _ in range(1500)}
    stored = {party_id(k) for k in keys[:3]}
    assert existing_ids(app, stored | unknown) == stored
    assert existing_ids(app, unknown) == set()
    assert existing_ids(app, []) == set()


def test_fewer_collections_raises_the_threshold_only_inside_the_block() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), fewer_collections():
        assert gc.get_threshold()[0] >= BULK_GEN0_THRESHOLD
        assert gc.get_threshold()[1:] == before[1:]
        raise RuntimeError("an import that fails still restores the collector")
    assert gc.get_threshold() == before


def test_a_re_import_is_settled_from_the_receipts_and_changed_content_is_refused(
    app: RoyaltyLedger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROYALTY_IMPORT_WORKERS", "0")
    files = write_release_messages(tmp_path, 6, tracks=2)
    assert import_paths(app, files, "test").counts()["accepted"] == 6
    head = app.head_position()
    changed = files[2].read_text().replace("<DisplayTitleText>", "<DisplayTitleText>Changed ", 1)
    files[2].write_text(changed)  # the same MessageId with other content
    again = import_paths(app, files, "test")
    assert app.head_position() == head
    results = [(i.result, i.reasons) for f in again.files for i in f.items]
    assert [r for r, _ in results] == ["unchanged", "unchanged", "rejected", "unchanged", "unchanged", "unchanged"]
    assert "imported before with different content" in results[2][1][0]
