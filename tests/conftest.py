"""Shared fixtures: a migrated store on a fresh SQLite file or a fresh PostgreSQL database.

PostgreSQL tests create their own database from a migrated template and drop it afterwards.
With CI=true an unreachable server fails the run; elsewhere those tests skip and say how to
enable them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from ledger.application import RoyaltyLedger
from ledger.store.config import StoreConfig
from ledger.store.migrate import apply_migrations, pg_conninfo

PG_ADMIN = os.environ.get("ROYALTY_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _admin_config() -> StoreConfig:
    return StoreConfig.from_url(PG_ADMIN)


def _pg_reachable() -> str | None:
    try:
        psycopg.connect(pg_conninfo(_admin_config()), connect_timeout=3).close()
        return None
    except psycopg.OperationalError as exc:
        return str(exc).strip().splitlines()[0]


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A migrated template database for this test session (one per xdist worker)."""
    problem = _pg_reachable()
    if problem:
        message = (
            f"PostgreSQL at {PG_ADMIN} is unreachable ({problem}). Start a server there "
            "(or set ROYALTY_TEST_PG=postgresql://user@host:port/postgres) to run these tests."
        )
        if IN_CI:
            pytest.fail("CI=true requires PostgreSQL: " + message)
        pytest.skip(message)
    name = f"royalty_tmpl_{uuid.uuid4().hex[:10]}"
    admin = _admin_config()
    apply_migrations(StoreConfig.from_url(f"postgresql://{admin.pg_user}@{admin.pg_host}:{admin.pg_port}/{name}"))
    yield name
    _drop_database(name)


def _drop_database(name: str) -> None:
    with psycopg.connect(pg_conninfo(_admin_config()), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def fresh_pg_database(template: str) -> tuple[StoreConfig, str]:
    """A fresh, migrated PostgreSQL database (a copy of `template`) and its name, for dropping."""
    admin = _admin_config()
    name = f"royalty_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_conninfo(admin), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template)))
        # A test database need not survive a crash of the server: commits stay atomic and in
        # order, they just do not wait for the WAL flush (the tests kill clients, never the server).
        conn.execute(sql.SQL("ALTER DATABASE {} SET synchronous_commit = off").format(sql.Identifier(name)))
    return StoreConfig.from_url(f"postgresql://{admin.pg_user}@{admin.pg_host}:{admin.pg_port}/{name}"), name


def drop_pg_database(name: str) -> None:
    _drop_database(name)


@pytest.fixture
def pg_config(pg_template: str) -> Iterator[StoreConfig]:
    """A fresh, migrated PostgreSQL database for one test, dropped afterwards."""
    config, name = fresh_pg_database(pg_template)
    yield config
    _drop_database(name)


@pytest.fixture
def sqlite_config(tmp_path: Path) -> StoreConfig:
    config = StoreConfig.from_url(str(tmp_path / "royalty.db"))
    apply_migrations(config)
    return config


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_config(request: pytest.FixtureRequest) -> StoreConfig:
    """The same test against both backends, the way eventsourcing tests its recorders."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_config")  # type: ignore[no-any-return]
    return request.getfixturevalue("pg_config")  # type: ignore[no-any-return]


@pytest.fixture
def ledger_app(store_config: StoreConfig) -> Iterator[RoyaltyLedger]:
    app = RoyaltyLedger(store_config)
    yield app
    app.close()


@pytest.fixture
def memory_app() -> Iterator[RoyaltyLedger]:
    """The ledger on eventsourcing's in-memory store, for fast unit tests of the domain."""
    app = RoyaltyLedger(StoreConfig("sqlite"), env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    yield app
    app.close()
