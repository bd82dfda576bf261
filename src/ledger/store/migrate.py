"""Forward-only, versioned SQL migrations from migrations/<backend>/NNNN_name.sql.

Each applied file is recorded in schema_migrations with its SHA-256; running again applies
nothing, and an applied file whose text changed is an error (write a new migration instead).
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from ledger.resources import shipped
from ledger.store.config import StoreConfig

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_LOCK_KEY = 74_205_118  # pg advisory lock: one `royalty init` at a time


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    text: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


def migrations_dir() -> Path:
    configured = os.environ.get("ROYALTY_MIGRATIONS_DIR")
    return Path(configured) if configured else shipped("migrations")


def load_migrations(backend: str) -> list[Migration]:
    folder = migrations_dir() / backend
    found = []
    for path in sorted(folder.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise MigrationError(f"{path}: migration files are named NNNN_name.sql")
        found.append(Migration(match.group(1), match.group(2), path.read_text()))
    if not found:
        raise MigrationError(f"no migrations found in {folder}")
    versions = [m.version for m in found]
    clashing = sorted({v for v in versions if versions.count(v) > 1})
    if clashing:
        # Two branches that each took the next number would otherwise fail deep inside a
        # transaction with a UNIQUE violation on schema_migrations, far from the cause.
        names = [f"{m.version}_{m.name}.sql" for m in found if m.version in clashing]
        raise MigrationError(f"{folder}: two migrations share a version ({', '.join(names)}); renumber one")
    return found


def apply_migrations(config: StoreConfig) -> list[str]:
    """Apply what is missing; return the versions applied by this call."""
    if config.backend == "sqlite":
        return _apply_sqlite(config, load_migrations("sqlite"))
    return _apply_postgres(config, load_migrations("postgres"))


def _check(applied: dict[str, str], migration: Migration) -> bool:
    """True if the migration still has to run; refuse an applied file that was edited."""
    if migration.version not in applied:
        return True
    if applied[migration.version] != migration.checksum:
        raise MigrationError(
            f"migration {migration.version}_{migration.name} changed after it was applied; "
            "migrations are forward-only: add a new one"
        )
    return False


_CREATE_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, name TEXT NOT NULL, "
    "checksum TEXT NOT NULL, applied_at TEXT NOT NULL)"
)


def _apply_sqlite(config: StoreConfig, migrations: list[Migration]) -> list[str]:
    assert config.sqlite_path is not None
    config.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(config.sqlite_path, isolation_level=None, timeout=30)
    _lend_functions(conn)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(_CREATE_TABLE)
        applied = dict(conn.execute("SELECT version, checksum FROM schema_migrations").fetchall())
        done = []
        for m in migrations:
            if _check(applied, m):
                for statement in _split_sqlite(m.text):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, ?, datetime('now'))",
                    (m.version, m.name, m.checksum),
                )
                done.append(m.version)
        conn.execute("COMMIT")
        return done
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    finally:
        conn.close()


def _lend_functions(conn: sqlite3.Connection) -> None:
    """Functions a migration may call to convert stored rows (0045: the usage table's keys and
    hashes; 0050: its payload hashes), on this connection only: no index, trigger or view may
    name them, as no other connection has them."""
    from ledger.usage.keys import usage_key

    conn.create_function("royalty_usage_key", 2, usage_key, deterministic=True)
    conn.create_function(
        "royalty_unhex", 1, lambda text: None if text is None else bytes.fromhex(text), deterministic=True
    )
    conn.create_function("royalty_packed_payload", 13, _packed_payload, deterministic=True)


def _packed_payload(
    source: str,
    usage_id: str,
    kind: str,
    occurred_at_us: int,
    isrc: str | None,
    upc: str | None,
    listener_hash: bytes,
    territory: str,
    seconds_played: int | None,
    currency: str,
    gross_micros: int,
    refund_of: str | None,
    payload_sha256: bytes,
) -> bytes | None:
    """0050: a stored line's payload hash, or NULL where ledger.usage.payload's rule recomputes
    exactly it from the line's own columns."""
    from ledger.usage.payload import stored_payload_sha256

    line = {
        "source": source,
        "usage_id": usage_id,
        "kind": kind,
        "occurred_at_us": occurred_at_us,
        "isrc": isrc,
        "upc": upc,
        "listener_hash": listener_hash.hex(),
        "territory": territory,
        "seconds_played": seconds_played,
        "currency": currency,
        "gross_micros": gross_micros,
        "refund_of": refund_of,
        "payload_sha256": None,
    }
    from ledger.usage.lines import LINE_COLUMNS

    if stored_payload_sha256([line.get(c) for c in LINE_COLUMNS]) == payload_sha256.hex():
        return None
    return payload_sha256


def _split_sqlite(text: str) -> list[str]:
    """Split a script into complete statements (sqlite3.complete_statement knows triggers)."""
    statements, buffer = [], ""
    for line in text.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip() and not all(ln.strip().startswith("--") or not ln.strip() for ln in buffer.splitlines()):
        raise MigrationError(f"incomplete SQL statement at end of migration: {buffer[:80]!r}")
    return statements


def pg_conninfo(config: StoreConfig, dbname: str | None = None) -> str:
    return psycopg.conninfo.make_conninfo(
        host=config.pg_host,
        port=config.pg_port,
        user=config.pg_user,
        password=config.pg_password or None,
        dbname=dbname or config.pg_dbname,
        connect_timeout=5,
    )


def ensure_pg_database(config: StoreConfig) -> bool:
    """Create the configured database when it does not exist; True if created."""
    try:
        psycopg.connect(pg_conninfo(config)).close()
        return False
    except psycopg.OperationalError as exc:
        if "does not exist" not in str(exc):
            raise
    with psycopg.connect(pg_conninfo(config, "postgres"), autocommit=True) as admin:
        # Bytewise collation: the ledger's text keys are identifiers and hex digests with no
        # linguistic order, and under a libc locale such as C.UTF-8 PostgreSQL 15 compares every
        # index key with strcoll (≈ 8-10 % of usage ingest). Character classes stay the server's.
        row = admin.execute("SELECT datctype FROM pg_database WHERE datname = 'template1'").fetchone()
        ctype = str(row[0]) if row else "C"
        if not ctype.lower().replace("-", "").endswith("utf8"):
            ctype = "C"  # the only other locale every UTF-8 database accepts
        admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE {}").format(
                sql.Identifier(config.pg_dbname), sql.Literal(ctype)
            )
        )
    return True


def _apply_postgres(config: StoreConfig, migrations: list[Migration]) -> list[str]:
    ensure_pg_database(config)
    with psycopg.connect(pg_conninfo(config)) as conn:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        conn.execute(_CREATE_TABLE)
        applied: dict[str, str] = dict(conn.execute("SELECT version, checksum FROM schema_migrations").fetchall())
        done = []
        for m in migrations:
            if _check(applied, m):
                conn.execute(m.text.encode())
                conn.execute(
                    "INSERT INTO schema_migrations VALUES (%s, %s, %s, now()::text)",
                    (m.version, m.name, m.checksum),
                )
                done.append(m.version)
        conn.commit()
        return done


def store_problem(config: StoreConfig) -> str | None:
    """Why this store cannot be used as it is, in words a person can act on; None when it can.

    Checked before a command opens the ledger, so a missing store, an unreachable server or a
    store behind the code's migrations is one clear sentence, not a traceback — and never creates
    an empty SQLite file as a side effect. Nothing is written.
    """
    where = config.describe()
    try:
        applied = _applied_versions(config)
    except FileNotFoundError:
        return f"no store at {where}: run `royalty init` to create it, or set ROYALTY_DATABASE_URL to an existing one"
    except (sqlite3.Error, psycopg.Error) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if config.backend == "postgres" and f'database "{config.pg_dbname}" does not exist' in reason:
            return f"no store at {where}: {reason}; run `royalty init` to create it"
        return f"cannot open the store at {where}: {reason}"
    if applied is None:
        return f"the store at {where} has no tables: run `royalty init`"
    missing = [m for m in load_migrations(config.backend) if m.version not in applied]
    if missing:
        names = ", ".join(f"{m.version}_{m.name}" for m in missing[:3]) + (" …" if len(missing) > 3 else "")
        return (
            f"the store at {where} is behind this version of royalty-ledger: {len(missing)} migration(s) "
            f"not applied ({names}); run `royalty init` to apply them"
        )
    return None


def _applied_versions(config: StoreConfig) -> set[str] | None:
    """The applied migration versions; None when the store has no schema_migrations table."""
    probe = "SELECT version FROM schema_migrations"
    if config.backend == "sqlite":
        assert config.sqlite_path is not None
        if not config.sqlite_path.exists():
            raise FileNotFoundError(config.sqlite_path)
        conn = sqlite3.connect(f"file:{config.sqlite_path}?mode=ro", uri=True, timeout=30)
        try:
            known = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
            if known.fetchone() is None:
                return None
            return {str(row[0]) for row in conn.execute(probe)}
        finally:
            conn.close()
    with psycopg.connect(pg_conninfo(config)) as pg:
        if pg.execute("SELECT to_regclass('schema_migrations')").fetchone() == (None,):
            return None
        return {str(row[0]) for row in pg.execute(probe)}
