"""ledger.store: where the log lives — configuration, migrations and recorders (SQLite, PostgreSQL)."""

from ledger.store.config import StoreConfig

__all__ = ["StoreConfig"]
