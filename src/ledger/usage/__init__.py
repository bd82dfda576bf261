"""Usage at volume: batched plays and sales, priced, deduplicated, quarantined, written atomically.

Public entry points (import them from their modules; this package imports nothing on purpose,
so the ledger application stays light):
- ledger.usage.ingest: `ingest_files`, `ingest_rows`, `UsageIngest`, `IngestSummary`
- ledger.usage.quarantine: `list_quarantine`, `retry_quarantine`
- ledger.usage.generator: `generate_usage`
- ledger.usage.listener: `load_listener_secret`, `create_listener_secret`
- ledger.usage.pricing_commands: `PricingCommands` (mixed into RoyaltyLedger), `demo_pricing`
"""
