-- usage_rows: REPLACE is detected, not refused (0012 refused it with a BEFORE INSERT trigger).
-- That trigger looks every usage line's key up once more before it is inserted: measured +38 %
-- on SQLite usage ingest end to end (median of 3 interleaved rounds of 201 300 rows, 49.8 s
-- against 36.0 s), on the one table written per play. A REPLACE of a usage line cannot pass
-- unseen all the same: it changes the stored rows of the line's batch, and `royalty audit
-- verify` recomputes every batch (line count, totals, canonical digest) from usage_rows and
-- names the batch position. UPDATE and DELETE stay refused; every other insert-only table
-- (stored_events, usage_quarantine, …), written once per event or per quarantined row, keeps
-- its REPLACE refusal.
DROP TRIGGER IF EXISTS usage_rows_no_replace;
