-- The lean usage table on SQLite (issue 18): the same lines, the same guarantees, fewer bytes and
-- less work per row written (measured in docs/usage-formats.md, "Stored tables").
--
-- - Dedupe on a 64-bit integer key, computed by the client (ledger.usage.keys.usage_key: FNV-1a 64
--   of source ‖ U+001F ‖ usage_id, fmix64, shifted right by one) plus a probe: two ids with the
--   same key, the later takes the next free key of key … key + 7 (linear probing). The stored
--   usage_key is key + probe; a unique index on (usage_key, line_no) holds each (source,
--   usage_id, line_no) once (every line of an id has its key). source and usage_id are kept in
--   full and every lookup re-checks them. A refund line holds its sale's key (refund_key, no
--   probe) for the refund joins.
-- - listener_hash and payload_sha256 as 32-byte BLOBs, not 64 hex digits; readers show them as
--   lower(hex(…)), which is what the digest and the API use.
-- - No batch_id per row: a row's batch is the UsageBatch event at its position.
-- - Stream2own numbering by a partial index on (the listener hash's first 8 bytes, isrc,
--   play_number) WHERE pair_last = 1; pair_last is now set only on counted stream2own lines (the
--   last of their pair in their batch), lookups re-check the full hash.
-- - rowid in position order (rows move here ordered by position; a batch's rows are appended).
-- Rows written before this migration move here (one copy of the table, in position order), their
-- keys and hashes converted by functions the migration runner lends this connection only
-- (royalty_usage_key, royalty_unhex; ledger.store.migrate): no index, trigger or view names them.
-- pair_last NULL (rows older than 0009) stays in the numbering index as before.
CREATE TABLE usage_rows_lean (
    position INTEGER NOT NULL,
    usage_key INTEGER NOT NULL,
    line_no INTEGER NOT NULL,
    kind TEXT NOT NULL
        CHECK (kind = 'stream' OR kind = 'download' OR kind = 'purchase' OR kind = 'tip' OR kind = 'refund'),
    occurred_at_us INTEGER NOT NULL,
    isrc TEXT NOT NULL,
    territory TEXT NOT NULL,
    currency TEXT NOT NULL,
    gross_micros INTEGER NOT NULL,
    pricing_model TEXT NOT NULL,
    pricing_version INTEGER NOT NULL,
    counted INTEGER NOT NULL CHECK (counted = 0 OR counted = 1),
    pair_last INTEGER NOT NULL CHECK (pair_last = 0 OR pair_last = 1),
    play_number INTEGER,
    seconds_played INTEGER,
    upc TEXT,
    source TEXT NOT NULL,
    usage_id TEXT NOT NULL,
    refund_of TEXT,
    refund_key INTEGER,
    listener_hash BLOB NOT NULL CHECK (length(listener_hash) = 32),
    payload_sha256 BLOB NOT NULL CHECK (length(payload_sha256) = 32)
);
INSERT INTO usage_rows_lean (position, usage_key, line_no, kind, occurred_at_us, isrc, territory, currency,
                             gross_micros, pricing_model, pricing_version, counted, pair_last, play_number,
                             seconds_played, upc, source, usage_id, refund_of, refund_key, listener_hash,
                             payload_sha256)
SELECT position, royalty_usage_key(source, usage_id)
           + dense_rank() OVER (PARTITION BY royalty_usage_key(source, usage_id) ORDER BY source, usage_id) - 1,
       line_no, kind, occurred_at_us, isrc, territory, currency, gross_micros, pricing_model, pricing_version,
       counted, pricing_model = 'stream2own' AND counted = 1 AND pair_last IS NOT 0, play_number, seconds_played,
       upc, source, usage_id, refund_of, CASE WHEN refund_of IS NOT NULL THEN royalty_usage_key(source, refund_of) END,
       royalty_unhex(listener_hash), royalty_unhex(payload_sha256)
FROM usage_rows
ORDER BY position, rowid;
DROP TABLE usage_rows;
ALTER TABLE usage_rows_lean RENAME TO usage_rows;
CREATE UNIQUE INDEX usage_rows_key ON usage_rows (usage_key, line_no);
CREATE INDEX usage_rows_position_idx ON usage_rows (position);
CREATE INDEX usage_rows_occurred_idx ON usage_rows (occurred_at_us);
CREATE INDEX usage_rows_pair_last_idx ON usage_rows (substr(listener_hash, 1, 8), isrc, play_number)
    WHERE pair_last = 1;
-- Refunds checked against the refunds already stored for the same sale: see 0008.
CREATE INDEX usage_rows_refund_of_idx ON usage_rows (source, refund_of) WHERE kind = 'refund';
CREATE TRIGGER usage_rows_no_update BEFORE UPDATE ON usage_rows
BEGIN
    SELECT RAISE(ABORT, 'usage_rows is append-only: UPDATE is not allowed');
END;
CREATE TRIGGER usage_rows_no_delete BEFORE DELETE ON usage_rows
BEGIN
    SELECT RAISE(ABORT, 'usage_rows is append-only: DELETE is not allowed');
END;
