-- The lean usage table's keys live in its indexes only (issue 18, after 0040): no usage_key or
-- pair_key column on the rows — 8 to 16 bytes a row less — and the dedupe index holds the key
-- alone (16 bytes an entry, not 24 with the line number).
--
-- - Dedupe: a unique index on (royalty_usage_key(source, usage_id) + probe) WHERE line_no = 0,
--   one entry per usage id; the further lines of a release purchase (line_no 1…n−1, few) are in
--   a second unique index on (key, line_no) WHERE line_no > 0. Together they hold each
--   (source, usage_id, line_no) once, as the primary key did. Lookups name the same expression,
--   with `line_no = 0` or `line_no > 0`, so each reads its index (ledger.usage.keys).
-- - Numbering: the partial index on (royalty_pair_key(listener_hash, isrc), play_number)
--   WHERE pair_last, an expression index instead of a generated column.
-- Rows move as in 0040 (into a new table, in position order), their keys and probes kept.
LOCK TABLE stored_events IN EXCLUSIVE MODE;
LOCK TABLE usage_rows IN ACCESS EXCLUSIVE MODE;

CREATE TABLE usage_rows_next (
    position bigint NOT NULL,
    occurred_at_us bigint NOT NULL,
    gross_micros bigint NOT NULL,
    pricing_version int NOT NULL,
    play_number int,
    seconds_played int,
    line_no smallint NOT NULL,
    probe smallint NOT NULL DEFAULT 0 CHECK (probe BETWEEN 0 AND 7),
    counted boolean NOT NULL,
    pair_last boolean NOT NULL,
    listener_hash bytea NOT NULL,
    payload_sha256 bytea NOT NULL,
    source text NOT NULL,
    usage_id text NOT NULL,
    kind text NOT NULL,
    isrc text NOT NULL,
    upc text,
    territory text NOT NULL,
    currency text NOT NULL,
    pricing_model text NOT NULL,
    refund_of text,
    CONSTRAINT usage_rows_kind_check
        CHECK (kind IN ('stream', 'download', 'purchase', 'tip', 'refund'))
);

INSERT INTO usage_rows_next (position, occurred_at_us, gross_micros, pricing_version, play_number, seconds_played,
                             line_no, probe, counted, pair_last, listener_hash, payload_sha256, source, usage_id,
                             kind, isrc, upc, territory, currency, pricing_model, refund_of)
SELECT position, occurred_at_us, gross_micros, pricing_version, play_number, seconds_played, line_no, probe,
       counted, pair_last, listener_hash, payload_sha256, source, usage_id, kind, isrc, upc, territory, currency,
       pricing_model, refund_of
FROM usage_rows
ORDER BY position, source, usage_id, line_no;

DROP TABLE usage_rows;
ALTER TABLE usage_rows_next RENAME TO usage_rows;
CREATE UNIQUE INDEX usage_rows_key ON usage_rows ((royalty_usage_key(source, usage_id) + probe))
    WHERE line_no = 0;
CREATE UNIQUE INDEX usage_rows_key_lines ON usage_rows ((royalty_usage_key(source, usage_id) + probe), line_no)
    WHERE line_no > 0;
CREATE INDEX usage_rows_position_brin ON usage_rows USING brin (position);
CREATE INDEX usage_rows_occurred_brin ON usage_rows USING brin (occurred_at_us);
CREATE INDEX usage_rows_pair_last_idx ON usage_rows (royalty_pair_key(listener_hash, isrc), play_number)
    WHERE pair_last;
CREATE INDEX usage_rows_refund_of_idx ON usage_rows (source, refund_of) WHERE kind = 'refund';

CREATE TRIGGER usage_rows_append_only
    BEFORE UPDATE OR DELETE ON usage_rows
    FOR EACH ROW EXECUTE FUNCTION royalty_reject_change();
CREATE TRIGGER usage_rows_no_truncate
    BEFORE TRUNCATE ON usage_rows
    FOR EACH STATEMENT EXECUTE FUNCTION royalty_reject_change();

ANALYZE usage_rows;
