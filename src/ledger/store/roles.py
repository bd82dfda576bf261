"""The least-privilege PostgreSQL role the service connects as in production (`royalty init --app-role`).

Run by the owner of the tables (the user `royalty init` connects as), after the migrations:

- the role logs in and is nothing else: not a superuser, cannot create databases or roles,
  replicate or bypass row security, owns nothing — so it can neither drop nor disable a trigger
  (both need the table's owner) nor set `session_replication_role` (a superuser's);
- **log tables** — every table an append-only trigger (`royalty_reject_change`) guards, found in
  the catalogue rather than listed here, so a later migration's insert-only table is one too:
  SELECT and INSERT only, no UPDATE, DELETE or TRUNCATE;
- the audit tables (`audit_event_digests`, `audit_state`), the rights facts (`rights_split_*`,
  `rights_recording_facts`) and `schema_migrations`: SELECT only (the digests and the facts are
  written by SECURITY DEFINER triggers, migrations 0012 and 0036);
- every other table (read models, the projector's and the media worker's tracking, failures):
  SELECT, INSERT, UPDATE, DELETE — derived data, rebuilt from the log;
- its sequences: USAGE; the lock function the recorder calls (`royalty_lock_stored_events`) and
  the one the usage writer makes a month's partition of usage_rows with (`royalty_usage_month`,
  SECURITY DEFINER, migration 0047): EXECUTE; CREATE on the schema is revoked from PUBLIC.

Re-run after every upgrade: it is idempotent and grants a new migration's tables by the same
rules. `royalty project rebuild` creates and swaps tables, which only the owner may: run it as
the owner.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from ledger.store.config import StoreConfig
from ledger.store.migrate import pg_conninfo

# Written only by the database's own SECURITY DEFINER triggers (migrations 0012 and 0036).
READ_ONLY_TABLES = (
    "audit_event_digests",
    "audit_state",
    "schema_migrations",
    "rights_split_subjects",
    "rights_split_proposals",
    "rights_split_versions",
    "rights_recording_facts",
)
FUNCTIONS = ("royalty_lock_stored_events()", "royalty_usage_month(text)")  # the latter: usage_rows by month (0047)

_APPEND_ONLY = """
SELECT DISTINCT c.relname
FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_proc p ON p.oid = t.tgfoid
WHERE n.nspname = current_schema() AND p.proname = 'royalty_reject_change' AND NOT t.tgisinternal
"""
_TABLES = """
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
"""


class RoleError(RuntimeError):
    pass


@dataclass
class AppRole:
    name: str
    created: bool
    log_tables: list[str] = field(default_factory=list)
    read_only_tables: list[str] = field(default_factory=list)
    read_write_tables: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "created": self.created,
            "log_tables": self.log_tables,
            "read_only_tables": self.read_only_tables,
            "read_write_tables": self.read_write_tables,
        }


def ensure_app_role(config: StoreConfig, name: str, password: str | None = None) -> AppRole:
    """Create (or bring up to date) the service's role with the grants above."""
    if config.backend != "postgres":
        raise RoleError("--app-role is for PostgreSQL: a SQLite store has no roles (protect the file instead)")
    if not name or name == config.pg_user:
        raise RoleError(f"--app-role {name!r}: name a role other than the owner {config.pg_user!r}")
    role = sql.Identifier(name)
    with psycopg.connect(pg_conninfo(config)) as conn:
        exists = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", (name,)).fetchone()
        owns = conn.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
            "WHERE r.rolname = %s AND c.relnamespace = current_schema()::regnamespace",
            (name,),
        ).fetchone()
        if owns and owns[0]:
            raise RoleError(f"role {name} owns {owns[0]} tables of this schema: it cannot be the service's role")
        attributes = sql.SQL("LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT")
        if exists is None:
            conn.execute(sql.SQL("CREATE ROLE {} ").format(role) + attributes)
        else:
            conn.execute(sql.SQL("ALTER ROLE {} ").format(role) + attributes)
        if password is not None:
            conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(role, sql.Literal(password)))
        conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(config.pg_dbname), role))
        schema = sql.Identifier(str(conn.execute("SELECT current_schema()").fetchone()[0]))  # type: ignore[index]
        conn.execute(sql.SQL("REVOKE CREATE ON SCHEMA {} FROM PUBLIC").format(schema))
        conn.execute(sql.SQL("REVOKE ALL ON SCHEMA {} FROM {}").format(schema, role))
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, role))
        conn.execute(sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA {} FROM {}").format(schema, role))
        conn.execute(sql.SQL("REVOKE ALL ON ALL SEQUENCES IN SCHEMA {} FROM {}").format(schema, role))
        conn.execute(sql.SQL("GRANT USAGE ON ALL SEQUENCES IN SCHEMA {} TO {}").format(schema, role))
        append_only = {str(r[0]) for r in conn.execute(_APPEND_ONLY).fetchall()}
        tables = sorted(str(r[0]) for r in conn.execute(_TABLES).fetchall())
        result = AppRole(name, exists is None)
        for table in tables:
            if table in READ_ONLY_TABLES:
                grant, bucket = "SELECT", result.read_only_tables
            elif table in append_only:
                grant, bucket = "SELECT, INSERT", result.log_tables
            else:
                grant, bucket = "SELECT, INSERT, UPDATE, DELETE", result.read_write_tables
            conn.execute(sql.SQL("GRANT " + grant + " ON TABLE {} TO {}").format(sql.Identifier(table), role))
            bucket.append(table)
        for function in FUNCTIONS:
            conn.execute(sql.SQL("GRANT EXECUTE ON FUNCTION " + function + " TO {}").format(role))
        if "stored_events" not in result.log_tables:
            raise RoleError("stored_events has no append-only trigger: run `royalty init` (the migrations) first")
        conn.commit()
    return result
