-- Refunds are checked against the refunds already stored for the same sale (their sum never
-- exceeds the sale). Refunds are few: a partial index keeps the lookup off a table scan at
-- almost no cost to stream ingest (stream rows are not in it).
CREATE INDEX IF NOT EXISTS usage_rows_refund_of_idx
    ON usage_rows (source, refund_of)
    WHERE kind = 'refund';
