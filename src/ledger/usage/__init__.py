"""Usage at volume: batched plays and sales, priced, deduplicated, quarantined, written atomically.

One batch goes through one pipeline, column-wise over the whole batch wherever rows are plain
(row by row only for the few that are not — sales, refunds, rows that fail a bulk check):
  read        readers.py (CSV, NDJSON, Parquet) → arrow_columns.py / rows.py: typed columns
  check       batch.py: intrinsic checks, listener hashes, payload hashes, duplicates, catalogue
  price       stream_lines.py (streams, stream2own window), pricing_lines.py (sales, refunds)
  lines       lines.py: the batch's lines as one Arrow table
  digest      digest.py: the batch's canonical SHA-256 (UsageBatch.rows_sha256)
  write       store.py (lookups, the side write; pg_copy.py: binary COPY bytes), writer.py
              (SQLite's writer process)
ingest.py drives it: the next batch is read and prepared while the current one is written (on
PostgreSQL the prepared batch's digest and COPY bytes are built on two more threads meanwhile).
A file's columns stay Arrow arrays throughout (rows.ArrowColumn); the run's memory of ids and
stream2own counts is in memory.py.

Public entry points (import them from their modules; this package imports nothing on purpose,
so the ledger application stays light):
- ledger.usage.ingest: `ingest_files`, `ingest_rows`, `UsageIngest`, `IngestSummary`
- ledger.usage.quarantine: `list_quarantine`, `retry_quarantine`
- ledger.usage.generator: `generate_usage`
- ledger.usage.listener: `load_listener_secret`, `create_listener_secret`
- ledger.usage.pricing_commands: `PricingCommands` (mixed into RoyaltyLedger), `demo_pricing`
"""
