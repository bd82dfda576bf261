-- Usage: one row per accepted usage line, written in the same transaction as its UsageBatch event.
-- Insert-only: triggers reject UPDATE, DELETE and TRUNCATE. The contract is in docs/usage-formats.md.
CREATE TABLE IF NOT EXISTS usage_rows (
    position bigint NOT NULL,
    batch_id text NOT NULL,
    source text NOT NULL,
    usage_id text NOT NULL,
    line_no int NOT NULL,
    kind text NOT NULL CHECK (kind IN ('stream', 'download', 'purchase', 'tip', 'refund')),
    occurred_at_us bigint NOT NULL,
    isrc text NOT NULL,
    upc text,
    listener_hash text NOT NULL,
    territory text NOT NULL,
    seconds_played int,
    currency text NOT NULL,
    gross_micros bigint NOT NULL,
    pricing_model text NOT NULL,
    pricing_version int NOT NULL,
    play_number int,
    counted boolean NOT NULL,
    payload_sha256 text NOT NULL,
    refund_of text,
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
    WHERE pricing_model = 'stream2own' AND counted;

CREATE TRIGGER usage_rows_append_only
    BEFORE UPDATE OR DELETE ON usage_rows
    FOR EACH ROW EXECUTE FUNCTION royalty_reject_change();
CREATE TRIGGER usage_rows_no_truncate
    BEFORE TRUNCATE ON usage_rows
    FOR EACH STATEMENT EXECUTE FUNCTION royalty_reject_change();

-- Rows that could not be accepted, with their reason; never dropped. The listener id is
-- already replaced by its HMAC in raw_row.
CREATE TABLE IF NOT EXISTS usage_quarantine (
    quarantine_id text PRIMARY KEY,
    position bigint NOT NULL,
    batch_id text NOT NULL,
    source text NOT NULL,
    usage_id text,
    raw_sha256 text NOT NULL,
    reason text NOT NULL,
    detail text NOT NULL,
    raw_row text NOT NULL,
    UNIQUE (source, raw_sha256)
);
CREATE INDEX IF NOT EXISTS usage_quarantine_position_idx ON usage_quarantine (position);

-- A quarantined row re-submitted and accepted (or found to be a duplicate): insert-only too.
CREATE TABLE IF NOT EXISTS usage_quarantine_resolved (
    quarantine_id text PRIMARY KEY,
    position bigint NOT NULL,
    batch_id text NOT NULL,
    outcome text NOT NULL CHECK (outcome IN ('accepted', 'duplicate'))
);

-- Stream2own: the play that made a listener the owner of a recording.
CREATE TABLE IF NOT EXISTS usage_ownership (
    listener_hash text NOT NULL,
    isrc text NOT NULL,
    position bigint NOT NULL,
    batch_id text NOT NULL,
    source text NOT NULL,
    usage_id text NOT NULL,
    occurred_at_us bigint NOT NULL,
    PRIMARY KEY (listener_hash, isrc)
);

CREATE TRIGGER usage_quarantine_append_only
    BEFORE UPDATE OR DELETE ON usage_quarantine
    FOR EACH ROW EXECUTE FUNCTION royalty_reject_change();
CREATE TRIGGER usage_quarantine_no_truncate
    BEFORE TRUNCATE ON usage_quarantine
    FOR EACH STATEMENT EXECUTE FUNCTION royalty_reject_change();
CREATE TRIGGER usage_quarantine_resolved_append_only
    BEFORE UPDATE OR DELETE ON usage_quarantine_resolved
    FOR EACH ROW EXECUTE FUNCTION royalty_reject_change();
CREATE TRIGGER usage_quarantine_resolved_no_truncate
    BEFORE TRUNCATE ON usage_quarantine_resolved
    FOR EACH STATEMENT EXECUTE FUNCTION royalty_reject_change();
CREATE TRIGGER usage_ownership_append_only
    BEFORE UPDATE OR DELETE ON usage_ownership
    FOR EACH ROW EXECUTE FUNCTION royalty_reject_change();
CREATE TRIGGER usage_ownership_no_truncate
    BEFORE TRUNCATE ON usage_ownership
    FOR EACH STATEMENT EXECUTE FUNCTION royalty_reject_change();
