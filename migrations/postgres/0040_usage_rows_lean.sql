-- The lean usage table (issue 18): the same lines, the same guarantees; measured 44 % fewer bytes
-- a row (268.5 B against 477.8 B) and less server CPU per row written (docs/usage-formats.md,
-- "Stored tables").
--
-- - Dedupe on a 64-bit key, royalty_usage_key(source, usage_id) + probe, computed by the
--   database, where royalty_usage_key is PostgreSQL's 64-bit hashtextextended of source ‖ U+001F ‖
--   usage_id, shifted right by one (so + 7 never overflows). The key lives in the indexes only (no
--   column): a unique index on it WHERE line_no = 0, one 16-byte entry per usage id, and one on
--   (key, line_no) WHERE line_no > 0 for the further lines of a release purchase (few); together
--   they hold each (source, usage_id, line_no) once. source and usage_id are kept in full and every
--   lookup re-checks them. Two ids whose keys collide: the later gets probe 1…7, the next free key
--   (linear probing; a lookup reads the range royalty_usage_key … + 7). Lookups name the same
--   expression, with `line_no = 0` or `line_no > 0`, so each reads its index (ledger.usage.keys).
-- - listener_hash and payload_sha256 as 32-byte bytea, not 64 hex digits; readers show them as
--   hex (encode(…, 'hex')), which is what the digest and the API use.
-- - No batch_id per row: a row's batch is the UsageBatch event at its position.
-- - BRIN, not btree, on position and occurred_at_us (rows arrive in position order; a
--   batch's rows are one run of pages). The usage watermark (the highest position holding
--   usage) is usage_positions, one row per batch, written with the batch's rows.
-- - Stream2own numbering by a partial btree on (royalty_pair_key(listener_hash, isrc),
--   play_number) WHERE pair_last (a 64-bit hash); lookups re-check the full listener hash and ISRC.
-- Both keys are computed by the database, in C, not by the client: the same immutable functions
-- serve the indexes, the lookups and the refund joins.
-- Rows written before this migration move here (one copy of the table, in position order) with
-- their keys computed by the same functions; pair_last NULL (rows older than 0009) is kept in the
-- numbering index as before.
LOCK TABLE stored_events IN EXCLUSIVE MODE;
LOCK TABLE usage_rows IN ACCESS EXCLUSIVE MODE;

CREATE OR REPLACE FUNCTION royalty_usage_key(source text, usage_id text) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT hashtextextended(source || E'\x1f' || usage_id, 0) >> 1
$$;
CREATE OR REPLACE FUNCTION royalty_pair_key(listener_hash bytea, isrc text) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT hashtextextended(encode(listener_hash, 'hex') || isrc, 0)
$$;

-- Fixed-width columns first, widest first (no alignment padding), then the variable ones.
CREATE TABLE usage_rows_lean (
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

INSERT INTO usage_rows_lean (position, occurred_at_us, gross_micros, pricing_version, play_number, seconds_played,
                             line_no, probe, counted, pair_last, listener_hash, payload_sha256, source, usage_id,
                             kind, isrc, upc, territory, currency, pricing_model, refund_of)
SELECT m.position, m.occurred_at_us, m.gross_micros, m.pricing_version, m.play_number, m.seconds_played, m.line_no,
       dense_rank() OVER (PARTITION BY royalty_usage_key(m.source, m.usage_id) ORDER BY m.source, m.usage_id) - 1,
       m.counted, m.pricing_model = 'stream2own' AND m.counted AND m.pair_last IS NOT FALSE,
       decode(m.listener_hash, 'hex'), decode(m.payload_sha256, 'hex'),
       m.source, m.usage_id, m.kind, m.isrc, m.upc, m.territory, m.currency, m.pricing_model, m.refund_of
FROM usage_rows AS m
ORDER BY m.position, m.source, m.usage_id, m.line_no;

CREATE TABLE usage_positions (position bigint PRIMARY KEY);
INSERT INTO usage_positions SELECT DISTINCT position FROM usage_rows;

DROP TABLE usage_rows;
ALTER TABLE usage_rows_lean RENAME TO usage_rows;
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
CREATE TRIGGER usage_positions_append_only
    BEFORE UPDATE OR DELETE ON usage_positions
    FOR EACH ROW EXECUTE FUNCTION royalty_reject_change();
CREATE TRIGGER usage_positions_no_truncate
    BEFORE TRUNCATE ON usage_positions
    FOR EACH STATEMENT EXECUTE FUNCTION royalty_reject_change();

ANALYZE usage_rows;
