-- SQLite usage rows in fewer bytes (issue 18: ≤ 1.6x the bare keyed table, table plus indexes).
-- Every reader keeps reading usage_rows with the same columns and the same values; what changes
-- is how four of them are stored (docs/usage-formats.md, "Stored tables"):
--
-- - listener_hash: each distinct 32-byte HMAC once, in usage_listeners (listener_id INTEGER
--   PRIMARY KEY, the hash unique), and a row holds its small listener_id. Readers that show the
--   hash read it from there (ledger.usage.store.sqlite_listener_hash). Only the HMAC is stored,
--   as before: no raw listener id anywhere.
-- - kind and pricing_model: small integer codes (kind_code, pricing_code; 0 and 1 take no bytes
--   in a SQLite record), read back through VIRTUAL generated columns named kind and pricing_model
--   (no bytes stored), so every query that names them is unchanged. pricing_code has no type
--   affinity: a model without a code is stored as its text and read back as it is.
-- - payload_sha256 is NULL when it is what `ledger.usage.payload.stored_payload_sha256` recomputes
--   from the row's own columns (a stream: its fields with no amount and no currency, as sent),
--   which the writer checks per row before it stores the NULL; any other row keeps its hash.
--   Readers of the hash (`audit verify`, the duplicate check) recompute a NULL one.
-- - The stream2own numbering index is on (listener_id, isrc, play_number) WHERE pair_last = 1.
--
-- Rows keep their rowids (usage_positions holds rowid runs, migration 0046); rows written before
-- this migration are converted by a function the migration runner lends this connection only
-- (royalty_packed_payload; ledger.store.migrate): no index, trigger or view names it.
CREATE TABLE usage_listeners (
    listener_id INTEGER PRIMARY KEY,
    listener_hash BLOB NOT NULL UNIQUE CHECK (length(listener_hash) = 32)
);
INSERT INTO usage_listeners (listener_hash)
SELECT listener_hash FROM usage_rows GROUP BY listener_hash ORDER BY MIN(rowid);
CREATE TABLE usage_rows_packed (
    position INTEGER NOT NULL,
    usage_key INTEGER NOT NULL,
    line_no INTEGER NOT NULL,
    kind_code INTEGER NOT NULL CHECK (kind_code >= 0 AND kind_code <= 4),
    occurred_at_us INTEGER NOT NULL,
    isrc TEXT NOT NULL,
    territory TEXT NOT NULL,
    currency TEXT NOT NULL,
    gross_micros INTEGER NOT NULL,
    pricing_code NOT NULL,
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
    listener_id INTEGER NOT NULL,
    payload_sha256 BLOB CHECK (payload_sha256 IS NULL OR length(payload_sha256) = 32),
    kind TEXT GENERATED ALWAYS AS (CASE kind_code WHEN 0 THEN 'stream' WHEN 1 THEN 'download'
        WHEN 2 THEN 'purchase' WHEN 3 THEN 'tip' WHEN 4 THEN 'refund' END) VIRTUAL,
    pricing_model TEXT GENERATED ALWAYS AS (CASE pricing_code WHEN 0 THEN 'stream2own' WHEN 1 THEN 'fixed_rate'
        WHEN 2 THEN 'sale' WHEN 3 THEN 'tip' WHEN 4 THEN 'refund' ELSE pricing_code END) VIRTUAL
);
INSERT INTO usage_rows_packed (rowid, position, usage_key, line_no, kind_code, occurred_at_us, isrc, territory,
                               currency, gross_micros, pricing_code, pricing_version, counted, pair_last,
                               play_number, seconds_played, upc, source, usage_id, refund_of, refund_key,
                               listener_id, payload_sha256)
SELECT u.rowid, u.position, u.usage_key, u.line_no,
       CASE u.kind WHEN 'stream' THEN 0 WHEN 'download' THEN 1 WHEN 'purchase' THEN 2 WHEN 'tip' THEN 3
           WHEN 'refund' THEN 4 END,
       u.occurred_at_us, u.isrc, u.territory, u.currency, u.gross_micros,
       CASE u.pricing_model WHEN 'stream2own' THEN 0 WHEN 'fixed_rate' THEN 1 WHEN 'sale' THEN 2 WHEN 'tip' THEN 3
           WHEN 'refund' THEN 4 ELSE u.pricing_model END,
       u.pricing_version, u.counted, u.pair_last, u.play_number, u.seconds_played, u.upc, u.source, u.usage_id,
       u.refund_of, u.refund_key, l.listener_id,
       royalty_packed_payload(u.source, u.usage_id, u.kind, u.occurred_at_us, u.isrc, u.upc, u.listener_hash,
                              u.territory, u.seconds_played, u.currency, u.gross_micros, u.refund_of,
                              u.payload_sha256)
FROM usage_rows AS u JOIN usage_listeners AS l ON l.listener_hash = u.listener_hash
ORDER BY u.rowid;
DROP TABLE usage_rows;
ALTER TABLE usage_rows_packed RENAME TO usage_rows;
CREATE UNIQUE INDEX usage_rows_key ON usage_rows (usage_key, line_no);
CREATE INDEX usage_rows_occurred_idx ON usage_rows (occurred_at_us);
CREATE INDEX usage_rows_pair_last_idx ON usage_rows (listener_id, isrc, play_number) WHERE pair_last = 1;
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
CREATE TRIGGER usage_listeners_no_update BEFORE UPDATE ON usage_listeners
BEGIN
    SELECT RAISE(ABORT, 'usage_listeners is append-only: UPDATE is not allowed');
END;
CREATE TRIGGER usage_listeners_no_delete BEFORE DELETE ON usage_listeners
BEGIN
    SELECT RAISE(ABORT, 'usage_listeners is append-only: DELETE is not allowed');
END;
-- A REPLACE would delete the row holding the same hash or id (no DELETE trigger fires for it) and
-- move a listener to another id: refused. Written once per new listener, not per play.
CREATE TRIGGER usage_listeners_no_replace BEFORE INSERT ON usage_listeners
WHEN EXISTS (SELECT 1 FROM usage_listeners WHERE listener_hash = NEW.listener_hash OR listener_id = NEW.listener_id)
BEGIN
    SELECT RAISE(ABORT, 'usage_listeners is append-only: this listener or id is stored already (REPLACE is not allowed)');
END;
