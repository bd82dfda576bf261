"""ledger.ingest: adapters that turn delivered files (DDEX ERN, CSV) into ledger commands."""
