-- The lean usage table (issue 18), the same logical schema as migrations/postgres/0040 less the
-- partitioning (SQLite has none) and BRIN (SQLite has only btrees): deduplicated on usage_key
-- (slot | line_no, ledger/usage/keys.py; here UNIQUE on the key alone), the full id kept and
-- compared by every lookup; refund_key (the sale line's key); stream2own numbering from
-- usage_play_counts instead of the partial index over plays. `royalty_usage_slot` is the
-- SHA-256 slot, registered by the migration runner. The table is rebuilt with its rows.
CREATE TABLE usage_rows_v40 (
    position INTEGER NOT NULL,
    batch_id TEXT NOT NULL,
    usage_key INTEGER NOT NULL,
    source TEXT NOT NULL,
    usage_id TEXT NOT NULL,
    line_no INTEGER NOT NULL CHECK (line_no >= 0 AND line_no < 1024),
    kind TEXT NOT NULL
        CHECK (kind = 'stream' OR kind = 'download' OR kind = 'purchase' OR kind = 'tip' OR kind = 'refund'),
    occurred_at_us INTEGER NOT NULL,
    isrc TEXT NOT NULL,
    upc TEXT,
    listener_hash TEXT NOT NULL,
    territory TEXT NOT NULL,
    seconds_played INTEGER,
    currency TEXT NOT NULL,
    gross_micros INTEGER NOT NULL,
    pricing_model TEXT NOT NULL,
    pricing_version INTEGER NOT NULL,
    play_number INTEGER,
    counted INTEGER NOT NULL CHECK (counted = 0 OR counted = 1),
    payload_sha256 TEXT NOT NULL,
    refund_of TEXT,
    refund_key INTEGER
);
INSERT INTO usage_rows_v40 (position, batch_id, usage_key, source, usage_id, line_no, kind, occurred_at_us, isrc,
    upc, listener_hash, territory, seconds_played, currency, gross_micros, pricing_model, pricing_version,
    play_number, counted, payload_sha256, refund_of, refund_key)
SELECT position, batch_id, royalty_usage_slot(source, usage_id) | line_no, source, usage_id, line_no, kind,
    occurred_at_us, isrc, upc, listener_hash, territory, seconds_played, currency, gross_micros, pricing_model,
    pricing_version, play_number, counted, payload_sha256, refund_of,
    CASE WHEN kind = 'refund' THEN royalty_usage_slot(source, refund_of) | line_no END
FROM usage_rows ORDER BY rowid;

CREATE TABLE usage_play_counts (
    listener_hash TEXT NOT NULL,
    isrc TEXT NOT NULL,
    plays INTEGER NOT NULL CHECK (plays > 0),
    position INTEGER NOT NULL,
    PRIMARY KEY (listener_hash, isrc)
);
INSERT INTO usage_play_counts (listener_hash, isrc, plays, position)
SELECT listener_hash, isrc, max(play_number), max(position) FROM usage_rows
WHERE pricing_model = 'stream2own' AND counted = 1 AND play_number IS NOT NULL
GROUP BY listener_hash, isrc;

DROP TABLE usage_rows;
ALTER TABLE usage_rows_v40 RENAME TO usage_rows;
CREATE UNIQUE INDEX usage_rows_key_idx ON usage_rows (usage_key);
CREATE INDEX usage_rows_position_idx ON usage_rows (position);
CREATE INDEX usage_rows_occurred_idx ON usage_rows (occurred_at_us);
CREATE INDEX usage_rows_refund_of_idx ON usage_rows (source, refund_of) WHERE kind = 'refund';
CREATE TRIGGER usage_rows_no_update BEFORE UPDATE ON usage_rows
BEGIN
    SELECT RAISE(ABORT, 'usage_rows is append-only: UPDATE is not allowed');
END;
CREATE TRIGGER usage_rows_no_delete BEFORE DELETE ON usage_rows
BEGIN
    SELECT RAISE(ABORT, 'usage_rows is append-only: DELETE is not allowed');
END;
-- The counters only grow: a play count never goes down, a pair never changes, nothing is deleted.
CREATE TRIGGER usage_play_counts_only_grow BEFORE UPDATE ON usage_play_counts
WHEN NEW.plays < OLD.plays OR NEW.position < OLD.position
    OR NEW.listener_hash IS NOT OLD.listener_hash OR NEW.isrc IS NOT OLD.isrc
BEGIN
    SELECT RAISE(ABORT, 'usage_play_counts only grow: this UPDATE is not allowed');
END;
CREATE TRIGGER usage_play_counts_no_delete BEFORE DELETE ON usage_play_counts
BEGIN
    SELECT RAISE(ABORT, 'usage_play_counts is append-only: DELETE is not allowed');
END;
