"""Migration files: one version per file, the same versions for both backends."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.store.migrate import MigrationError, load_migrations


def test_both_backends_have_the_same_distinct_versions() -> None:
    sqlite = [m.version for m in load_migrations("sqlite")]
    postgres = [m.version for m in load_migrations("postgres")]
    assert len(set(sqlite)) == len(sqlite)
    assert sqlite == postgres


def test_two_files_with_one_version_are_refused_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "sqlite"
    folder.mkdir()
    (folder / "0001_a.sql").write_text("SELECT 1;")
    (folder / "0002_b.sql").write_text("SELECT 1;")
    (folder / "0002_c.sql").write_text("SELECT 1;")
    monkeypatch.setenv("ROYALTY_MIGRATIONS_DIR", str(tmp_path))
    with pytest.raises(MigrationError, match=r"0002_b\.sql, 0002_c\.sql"):
        load_migrations("sqlite")
