"""Store configuration: one setting picks the backend.

ROYALTY_DATABASE_URL unset → SQLite file ./var/royalty.db; `sqlite:///path` or a path → that file;
`postgresql://user[:password]@host[:port]/dbname` → PostgreSQL.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

DEFAULT_SQLITE_PATH = Path("var") / "royalty.db"


@dataclass(frozen=True)
class StoreConfig:
    backend: str  # "sqlite" | "postgres"
    sqlite_path: Path | None = None
    pg_host: str = "127.0.0.1"
    pg_port: int = 5432
    pg_user: str = "postgres"
    pg_password: str = ""
    pg_dbname: str = ""

    @classmethod
    def from_url(cls, url: str | None) -> StoreConfig:
        if not url:
            return cls("sqlite", sqlite_path=DEFAULT_SQLITE_PATH)
        if url.startswith(("postgresql://", "postgres://")):
            parsed = urlparse(url)
            dbname = parsed.path.lstrip("/")
            if not dbname:
                raise ValueError(f"database URL {redact(url)}: names no database")
            return cls(
                "postgres",
                pg_host=parsed.hostname or "127.0.0.1",
                pg_port=parsed.port or 5432,
                pg_user=unquote(parsed.username or "postgres"),
                pg_password=unquote(parsed.password or ""),
                pg_dbname=dbname,
            )
        if url.startswith("sqlite:///"):
            return cls("sqlite", sqlite_path=Path(url.removeprefix("sqlite:///")))
        if "://" in url:
            raise ValueError(f"database URL {redact(url)}: expected postgresql:// or sqlite:///")
        return cls("sqlite", sqlite_path=Path(url))

    @classmethod
    def from_env(cls) -> StoreConfig:
        return cls.from_url(os.environ.get("ROYALTY_DATABASE_URL"))

    def describe(self) -> str:
        if self.backend == "sqlite":
            return f"sqlite:///{self.sqlite_path}"
        return f"postgresql://{self.pg_user}@{self.pg_host}:{self.pg_port}/{self.pg_dbname}"

    def eventsourcing_env(self) -> dict[str, str]:
        """Environment for eventsourcing's factory; tables come from migrations, never CREATE_TABLE."""
        env = {
            "CREATE_TABLE": "n",
            "APPLICATION_RECORDER_TOPIC": "",
        }
        if self.backend == "sqlite":
            assert self.sqlite_path is not None
            env.update(
                PERSISTENCE_MODULE="eventsourcing.sqlite",
                SQLITE_DBNAME=str(self.sqlite_path),
                SQLITE_LOCK_TIMEOUT="30",
                APPLICATION_RECORDER_TOPIC="ledger.store.recorders:SQLiteLedgerRecorder",
            )
        else:
            env.update(
                PERSISTENCE_MODULE="eventsourcing.postgres",
                POSTGRES_DBNAME=self.pg_dbname,
                POSTGRES_HOST=self.pg_host,
                POSTGRES_PORT=str(self.pg_port),
                POSTGRES_USER=self.pg_user,
                POSTGRES_PASSWORD=self.pg_password,
                POSTGRES_ENABLE_DB_FUNCTIONS="n",  # 9.5.6 drops tracking records when on
                POSTGRES_POOL_SIZE="4",
                POSTGRES_LOCK_TIMEOUT="30",
                APPLICATION_RECORDER_TOPIC="ledger.store.recorders:PostgresLedgerRecorder",
            )
        return env


def redact(url: str) -> str:
    parsed = urlparse(url)
    if parsed.password:
        return url.replace(f":{parsed.password}@", ":***@")
    return url
