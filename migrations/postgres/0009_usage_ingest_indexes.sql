-- Usage ingest at volume: every index on usage_rows is paid for by every play written.
-- (isrc, occurred_at_us) served one reader only, the earnings view's re-allocation of a day on
-- which a recording's split changed; that query now narrows by occurred_at_us (a day) on
-- usage_rows_occurred_idx and filters the recording. Dropping it saves ≈ 15 % of ingest.
DROP INDEX IF EXISTS usage_rows_isrc_occurred_idx;
