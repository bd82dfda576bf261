"""A command run against a store it cannot use says why in one sentence and exits 1 — no traceback,
no 30-second wait on a database that does not exist, no empty SQLite file left behind."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest

from ledger.store.config import StoreConfig
from ledger.store.migrate import pg_conninfo, store_problem
from tests.e2e.cli_runner import royalty


def test_a_missing_sqlite_store_is_named_and_not_created(tmp_path: Path) -> None:
    config = StoreConfig.from_url(str(tmp_path / "nowhere" / "royalty.db"))
    result = royalty(config, "earnings", "aria", "--json")
    assert result.returncode == 1
    assert "no store at" in result.stderr and "royalty init" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "nowhere").exists()


def test_a_store_without_tables_or_behind_the_migrations_says_run_init(
    sqlite_config: StoreConfig, tmp_path: Path
) -> None:
    bare = StoreConfig.from_url(str(tmp_path / "bare.db"))
    sqlite3.connect(tmp_path / "bare.db").close()
    assert store_problem(bare) == f"the store at {bare.describe()} has no tables: run `royalty init`"
    assert store_problem(sqlite_config) is None
    assert sqlite_config.sqlite_path is not None
    with sqlite3.connect(sqlite_config.sqlite_path) as conn:
        conn.execute("DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)")
    problem = store_problem(sqlite_config)
    assert problem is not None and "1 migration(s) not applied" in problem and "royalty init" in problem
    result = royalty(sqlite_config, "statements", "show", "2026-11", "--party", "aria")
    assert result.returncode == 1 and "is behind this version" in result.stderr


@pytest.mark.postgres
def test_postgres_a_missing_database_and_an_unreachable_server_are_named(pg_config: StoreConfig) -> None:
    assert store_problem(pg_config) is None
    missing = StoreConfig.from_url(
        f"postgresql://{pg_config.pg_user}@{pg_config.pg_host}:{pg_config.pg_port}/royalty_no_such_db"
    )
    result = royalty(missing, "earnings", "aria", timeout=20)
    assert result.returncode == 1
    assert "no store at" in result.stderr and "does not exist" in result.stderr and "royalty init" in result.stderr
    with psycopg.connect(pg_conninfo(pg_config), autocommit=True) as conn:
        conn.execute("DROP TABLE schema_migrations")
    assert store_problem(pg_config) == f"the store at {pg_config.describe()} has no tables: run `royalty init`"
    stranger = StoreConfig.from_url(f"postgresql://royalty_no_such_role@{pg_config.pg_host}:{pg_config.pg_port}/x")
    problem = store_problem(stranger)  # a missing role is not a missing store: no "run royalty init"
    assert problem is not None and problem.startswith("cannot open the store at") and "royalty init" not in problem
    closed = StoreConfig.from_url(f"postgresql://{pg_config.pg_user}@127.0.0.1:1/x")
    problem = store_problem(closed)
    assert problem is not None and problem.startswith("cannot open the store at") and "refused" in problem


def test_a_url_that_names_no_store_is_a_clear_error(tmp_path: Path) -> None:
    config = StoreConfig.from_url(str(tmp_path / "royalty.db"))
    result = royalty(config, "earnings", "aria", env={"ROYALTY_DATABASE_URL": "mysql://root@localhost/x"})
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "ROYALTY_DATABASE_URL" in result.stderr and "expected postgresql:// or sqlite:///" in result.stderr
