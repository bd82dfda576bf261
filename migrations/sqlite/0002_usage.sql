-- Usage: one row per accepted usage line, written in the same transaction as its UsageBatch event.
-- Insert-only: triggers reject UPDATE and DELETE. The column contract is in docs/usage-formats.md.
CREATE TABLE IF NOT EXISTS usage_rows (
    position INTEGER NOT NULL,
    batch_id TEXT NOT NULL,
    source TEXT NOT NULL,
    usage_id TEXT NOT NULL,
    line_no INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('stream', 'download', 'purchase', 'tip', 'refund')),
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
    counted INTEGER NOT NULL CHECK (counted IN (0, 1)),
    payload_sha256 TEXT NOT NULL,
    refund_of TEXT,
    PRIMARY KEY (source, usage_id, line_no)
);
CREATE INDEX IF NOT EXISTS usage_rows_position_idx ON usage_rows (position);
CREATE INDEX IF NOT EXISTS usage_rows_occurred_idx ON usage_rows (occurred_at_us);
CREATE INDEX IF NOT EXISTS usage_rows_isrc_occurred_idx ON usage_rows (isrc, occurred_at_us);
-- Stream2own play numbers are derived from earlier counted plays of (listener, recording):
-- play numbers are dense (1, 2, 3, …), so the next one is the highest stored + 1, found by one
-- index descent whatever the listener's history. Keyed on a 16-hex-digit prefix of the
-- listener HMAC (queries re-check the full hash): a quarter of the key width, which matters
-- on an index written in random order at volume.
CREATE INDEX IF NOT EXISTS usage_rows_stream2own_idx
    ON usage_rows (substr(listener_hash, 1, 16), isrc, play_number)
    WHERE pricing_model = 'stream2own' AND counted = 1;

CREATE TRIGGER IF NOT EXISTS usage_rows_no_update BEFORE UPDATE ON usage_rows
BEGIN
    SELECT RAISE(ABORT, 'usage_rows is append-only: UPDATE is not allowed');
END;
CREATE TRIGGER IF NOT EXISTS usage_rows_no_delete BEFORE DELETE ON usage_rows
BEGIN
    SELECT RAISE(ABORT, 'usage_rows is append-only: DELETE is not allowed');
END;

-- Rows that could not be accepted, with their reason; never dropped. The listener id is
-- already replaced by its HMAC in raw_row.
CREATE TABLE IF NOT EXISTS usage_quarantine (
    quarantine_id TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    batch_id TEXT NOT NULL,
    source TEXT NOT NULL,
    usage_id TEXT,
    raw_sha256 TEXT NOT NULL,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL,
    raw_row TEXT NOT NULL,
    UNIQUE (source, raw_sha256)
);
CREATE INDEX IF NOT EXISTS usage_quarantine_position_idx ON usage_quarantine (position);

-- A quarantined row re-submitted and accepted (or found to be a duplicate): insert-only too.
CREATE TABLE IF NOT EXISTS usage_quarantine_resolved (
    quarantine_id TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    batch_id TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'duplicate'))
);

-- Stream2own: the play that made a listener the owner of a recording.
CREATE TABLE IF NOT EXISTS usage_ownership (
    listener_hash TEXT NOT NULL,
    isrc TEXT NOT NULL,
    position INTEGER NOT NULL,
    batch_id TEXT NOT NULL,
    source TEXT NOT NULL,
    usage_id TEXT NOT NULL,
    occurred_at_us INTEGER NOT NULL,
    PRIMARY KEY (listener_hash, isrc)
);

CREATE TRIGGER IF NOT EXISTS usage_quarantine_no_update BEFORE UPDATE ON usage_quarantine
BEGIN
    SELECT RAISE(ABORT, 'usage_quarantine is append-only: UPDATE is not allowed');
END;
CREATE TRIGGER IF NOT EXISTS usage_quarantine_no_delete BEFORE DELETE ON usage_quarantine
BEGIN
    SELECT RAISE(ABORT, 'usage_quarantine is append-only: DELETE is not allowed');
END;
CREATE TRIGGER IF NOT EXISTS usage_quarantine_resolved_no_update
BEFORE UPDATE ON usage_quarantine_resolved
BEGIN
    SELECT RAISE(ABORT, 'usage_quarantine_resolved is append-only: UPDATE is not allowed');
END;
CREATE TRIGGER IF NOT EXISTS usage_quarantine_resolved_no_delete
BEFORE DELETE ON usage_quarantine_resolved
BEGIN
    SELECT RAISE(ABORT, 'usage_quarantine_resolved is append-only: DELETE is not allowed');
END;
CREATE TRIGGER IF NOT EXISTS usage_ownership_no_update BEFORE UPDATE ON usage_ownership
BEGIN
    SELECT RAISE(ABORT, 'usage_ownership is append-only: UPDATE is not allowed');
END;
CREATE TRIGGER IF NOT EXISTS usage_ownership_no_delete BEFORE DELETE ON usage_ownership
BEGIN
    SELECT RAISE(ABORT, 'usage_ownership is append-only: DELETE is not allowed');
END;
