"""One connection to the view tables, the same way on SQLite and PostgreSQL.

SQL is written once with `?` placeholders and `{table}` names; the PostgreSQL side swaps the
placeholders. Read models name their tables through a mapping so a rebuild can fold into
fresh copies (`<table>__rebuild`) with the very same statements.
"""

from __future__ import annotations

import os
import re
import sqlite3
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg

from ledger.store.config import StoreConfig
from ledger.store.migrate import pg_conninfo

# Tests only: seconds to sleep after each statement inside a batch transaction, so a test can
# SIGKILL the projector mid-batch. Never set in production.
TEST_SLEEP_ENV = "ROYALTY_PROJECTOR_TEST_SLEEP"
# Failures of the connection or the server (lost connection, lock timeout, serialization),
# never of one event's data: a fold that fails with one of these is retried, not skipped.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (sqlite3.OperationalError, psycopg.OperationalError)


class ViewDB:
    """A connection to the store's database for the read side."""

    def __init__(self, config: StoreConfig) -> None:
        self.config = config
        self.backend = config.backend
        self._sleep = float(os.environ.get(TEST_SLEEP_ENV) or 0)
        self._in_batch = False
        self.batch_memo: dict[str, object] = {}  # work shared by the read models of one batch
        if config.backend == "sqlite":
            assert config.sqlite_path is not None
            # Handed between threads (an embedded projector), never used by two at once.
            self._sqlite = sqlite3.connect(
                config.sqlite_path, isolation_level=None, timeout=60, check_same_thread=False
            )
            self._sqlite.execute("PRAGMA journal_mode=WAL")
            self._sqlite.execute("PRAGMA synchronous=NORMAL")
        else:
            self._pg = psycopg.connect(pg_conninfo(config), autocommit=True)

    def close(self) -> None:
        if self.backend == "sqlite":
            self._sqlite.close()
        else:
            self._pg.close()

    def _sql(self, statement: str) -> str:
        if self.backend == "sqlite":
            return statement
        return statement.replace("%", "%%").replace("?", "%s")

    def execute(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement; return its rows (empty for statements that return none)."""
        if self.backend == "sqlite":
            rows = self._sqlite.execute(statement, tuple(params)).fetchall()
        else:
            cur = self._pg.execute(self._sql(statement).encode(), tuple(params))
            rows = cur.fetchall() if cur.description else []
        self._pause()
        return rows

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        if self.backend == "sqlite":
            self._sqlite.executemany(statement, rows)
        else:
            with self._pg.cursor() as cur:
                cur.executemany(self._sql(statement).encode(), rows)
        self._pause()

    def copy_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Bulk insert: COPY on PostgreSQL, executemany on SQLite."""
        if not rows:
            return
        if self.backend == "sqlite":
            marks = ",".join("?" * len(columns))
            self._sqlite.executemany(f"INSERT INTO {table} ({','.join(columns)}) VALUES ({marks})", rows)
        else:
            statement = f"COPY {table} ({','.join(columns)}) FROM STDIN"
            with self._pg.cursor() as cur, cur.copy(statement.encode()) as copy:
                for row in rows:
                    copy.write_row(row)
        self._pause()

    def upsert_rows(self, table: str, columns: Sequence[str], keys: int, rows: Sequence[Sequence[Any]]) -> None:
        """Insert or overwrite rows by their first `keys` columns, in bulk (PostgreSQL: COPY to a
        staging table, then one INSERT … ON CONFLICT, so unchanged index keys allow HOT updates)."""
        if not rows:
            return
        key, rest = ",".join(columns[:keys]), ",".join(f"{c} = excluded.{c}" for c in columns[keys:])
        cols = ",".join(columns)
        if self.backend == "sqlite":
            marks = ",".join("?" * len(columns))
            self._sqlite.executemany(
                f"INSERT INTO {table} ({cols}) VALUES ({marks}) ON CONFLICT ({key}) DO UPDATE SET {rest}", rows
            )
            self._pause()
            return
        stage = f"stage_{table}"
        self.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {table}) ON COMMIT DELETE ROWS")
        self.execute(f"DELETE FROM {stage}")
        self.copy_rows(stage, columns, rows)
        self.execute(
            f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {stage} ON CONFLICT ({key}) DO UPDATE SET {rest}"
        )

    def add_rows(self, table: str, columns: Sequence[str], keys: int, rows: Sequence[Sequence[Any]]) -> None:
        """Add each row's values to the row with the same first `keys` columns (inserted when
        missing): how a fold applies changes to a sum it keeps. A row whose one value comes to
        zero is deleted, so a sum kept this way equals one computed afresh (rebuilt == live)."""
        if not rows:
            return
        key = ",".join(columns[:keys])
        rest = ",".join(f"{c} = {table}.{c} + excluded.{c}" for c in columns[keys:])
        cols = ",".join(columns)
        value = columns[-1]
        if self.backend == "sqlite":
            marks = ",".join("?" * len(columns))
            self._sqlite.executemany(
                f"INSERT INTO {table} ({cols}) VALUES ({marks}) ON CONFLICT ({key}) DO UPDATE SET {rest}", rows
            )
            where = " AND ".join(f"{c} = ?" for c in columns[:keys])
            self._sqlite.executemany(
                f"DELETE FROM {table} WHERE {where} AND {value} = 0", [tuple(r[:keys]) for r in rows]
            )
            self._pause()
            return
        stage = f"stage_{table}"
        self.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {table}) ON COMMIT DELETE ROWS")
        self.execute(f"DELETE FROM {stage}")
        self.copy_rows(stage, columns, rows)
        self.execute(
            f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {stage} ON CONFLICT ({key}) DO UPDATE SET {rest}"
        )
        joined = " AND ".join(f"t.{c} = s.{c}" for c in columns[:keys])
        self.execute(f"DELETE FROM {table} t USING {stage} s WHERE {joined} AND t.{value} = 0")

    def _pause(self) -> None:
        if self._sleep and self._in_batch:
            print("projector: in batch", file=sys.stderr, flush=True)
            time.sleep(self._sleep)

    @contextmanager
    def transaction(self) -> Iterator[ViewDB]:
        """One write transaction: everything inside commits together or not at all."""
        if self.backend == "sqlite":
            self._sqlite.execute("BEGIN IMMEDIATE")
            self.batch_memo.clear()
            try:
                self._in_batch = True
                yield self
                self._sqlite.execute("COMMIT")
            except BaseException:
                self._sqlite.execute("ROLLBACK")
                raise
            finally:
                self._in_batch = False
                self.batch_memo.clear()
        else:
            self.batch_memo.clear()
            try:
                with self._pg.transaction():
                    # A batch lost in a crash before it reached the disk lost its tracking row
                    # with it (same transaction) and is simply folded again: durability of each
                    # commit is not needed for exactly-once, so do not wait for the WAL flush.
                    self._pg.execute(b"SET LOCAL synchronous_commit TO OFF")
                    self._pg.execute(b"SET LOCAL work_mem TO '64MB'")
                    self._in_batch = True
                    yield self
            finally:
                self._in_batch = False
                self.batch_memo.clear()

    @contextmanager
    def savepoint(self) -> Iterator[ViewDB]:
        """Inside a transaction: everything inside is undone alone if it raises (the rest stays)."""
        if self.backend == "sqlite":
            self._sqlite.execute("SAVEPOINT fold")
            try:
                yield self
            except BaseException:
                self.batch_memo.clear()  # what the memo names was rolled back with the rest
                self._sqlite.execute("ROLLBACK TO fold")
                self._sqlite.execute("RELEASE fold")
                raise
            self._sqlite.execute("RELEASE fold")
        else:
            try:
                with self._pg.transaction():  # nested in the batch's transaction: a SAVEPOINT
                    yield self
            except BaseException:
                self.batch_memo.clear()
                raise

    def table_exists(self, name: str) -> bool:
        if self.backend == "sqlite":
            found = self.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", [name])
        else:
            found = self.execute("SELECT 1 FROM pg_tables WHERE tablename = ?", [name])
        return bool(found)

    def clone_table(self, source: str, target: str) -> None:
        """Create an empty `target` with `source`'s definition (columns, keys)."""
        self.execute(f"DROP TABLE IF EXISTS {target}")
        if self.backend == "postgres":
            self.execute(f"CREATE TABLE {target} (LIKE {source} INCLUDING ALL)")
            # LIKE copies no storage parameters; keep the source's (fillfactor).
            options = self.execute("SELECT reloptions FROM pg_class WHERE relname = ?", [source])
            if options and options[0][0]:
                self.execute(f"ALTER TABLE {target} SET ({', '.join(options[0][0])})")
            return
        row = self.execute("SELECT sql FROM sqlite_master WHERE type='table' AND name=?", [source])
        if not row:
            raise LookupError(f"no table {source}")
        ddl = re.sub(r'^CREATE TABLE\s+(IF NOT EXISTS\s+)?("[^"]+"|\S+)', f"CREATE TABLE {target}", row[0][0])
        self.execute(ddl)
        # SQLite index names are global and survive a table rename: give each copy fresh ones.
        token = uuid.uuid4().hex[:8]
        indexes = self.execute(
            "SELECT sql FROM sqlite_master WHERE type='index' AND tbl_name=? AND sql IS NOT NULL",
            [source],
        )
        for n, (index_sql,) in enumerate(indexes):
            self.execute(
                re.sub(
                    r"^CREATE INDEX\s+(IF NOT EXISTS\s+)?\S+\s+ON\s+\S+",
                    f"CREATE INDEX {target}_ix{n}_{token} ON {target}",
                    index_sql,
                )
            )

    def ensure_fillfactor(self, table: str, percent: int) -> None:
        """PostgreSQL: leave room on each page of an upserted table so updates stay HOT (no-op on SQLite)."""
        if self.backend != "postgres":
            return
        rows = self.execute("SELECT reloptions FROM pg_class WHERE relname = ?", [table])
        if rows and not any(o.startswith("fillfactor=") for o in rows[0][0] or ()):
            self.execute(f"ALTER TABLE {table} SET (fillfactor = {int(percent)})")

    def listen(self, channel: str) -> psycopg.Connection[Any]:
        """A separate PostgreSQL connection LISTENing on `channel` (the events table's)."""
        conn = psycopg.connect(pg_conninfo(self.config), autocommit=True)
        conn.execute(f"LISTEN {channel}".encode())
        return conn
