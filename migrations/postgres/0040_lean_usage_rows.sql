-- The lean usage table (issue 18). Same columns and meanings for readers; what changes is what
-- every play pays for at write time:
-- 1. Deduplication on `usage_key` (bigint): slot | line_no, the slot being the first 8 bytes of
--    SHA-256(source U+001F usage_id) with its low 10 bits cleared (ledger/usage/keys.py). The full
--    (source, usage_id, line_no) stays in the row and every lookup compares it; an id whose slot
--    holds another id takes the next probe's slot, so a collision never drops or merges a row.
--    Replaces the primary key over three text columns.
-- 2. Declarative partitioning by month of occurred_at_us. A unique index of a partitioned table
--    must hold the partition key: (usage_key, occurred_at_us) refuses the same line twice in its
--    month; the ingest looks every id up before it writes on PostgreSQL (never "optimistic"), under
--    the log's write lock, so the same id at another instant is still caught (a different payload).
-- 3. BRIN on position and occurred_at_us (rows arrive in position order, mostly in time order):
--    a few pages per partition instead of two btrees written for every play.
-- 4. Stream2own numbering from usage_play_counts, one row per (listener, recording), upserted once
--    per pair per batch, instead of the partial index over plays (usage_rows_stream2own_last_idx).
-- 5. refund_key: a refund line's sale line's usage_key (the join readers use, on the unique index).
-- batch_id, pair_last: batch_id stays (readers use it); pair_last is gone (the counters replace it).

CREATE FUNCTION royalty_usage_slot(source text, usage_id text) RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT ('x' || encode(substr(sha256(convert_to(source || chr(31) || usage_id, 'UTF8')), 1, 8), 'hex'))::bit(64)::bigint & (-1024)::bigint $$;

-- A refused change names usage_rows, whichever monthly partition the row is in.
CREATE FUNCTION royalty_reject_usage_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'usage_rows is append-only: % is not allowed (partition %)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$;

ALTER TABLE usage_rows RENAME TO usage_rows_v39;
ALTER INDEX IF EXISTS usage_rows_pkey RENAME TO usage_rows_v39_pkey;
ALTER INDEX IF EXISTS usage_rows_position_idx RENAME TO usage_rows_v39_position_idx;
ALTER INDEX IF EXISTS usage_rows_occurred_idx RENAME TO usage_rows_v39_occurred_idx;
ALTER INDEX IF EXISTS usage_rows_refund_of_idx RENAME TO usage_rows_v39_refund_of_idx;
ALTER INDEX IF EXISTS usage_rows_stream2own_last_idx RENAME TO usage_rows_v39_stream2own_last_idx;

CREATE TABLE usage_rows (
    position bigint NOT NULL,
    batch_id text NOT NULL,
    usage_key bigint NOT NULL,
    source text NOT NULL,
    usage_id text NOT NULL,
    line_no int NOT NULL CHECK (line_no >= 0 AND line_no < 1024),
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
    refund_key bigint
) PARTITION BY RANGE (occurred_at_us);

-- Rows of a month with no partition yet (a writer that did not ask for one) land here; the
-- ingest asks royalty_usage_month for each month it writes before it writes.
CREATE TABLE usage_rows_default PARTITION OF usage_rows DEFAULT;

-- The partition of the month holding `at_us`, created if missing (SECURITY DEFINER: the
-- service's role may not create tables). A month whose rows are already in the default
-- partition keeps them there (moving them would be a DELETE).
CREATE FUNCTION royalty_usage_month(at_us bigint) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path FROM CURRENT
    SET timezone = 'UTC'
AS $$
DECLARE
    month timestamptz := date_trunc('month', to_timestamp(at_us / 1000000));
    lo bigint := extract(epoch FROM month)::bigint * 1000000;
    hi bigint := extract(epoch FROM month + interval '1 month')::bigint * 1000000;
    name text := 'usage_rows_' || to_char(month, 'YYYY"m"MM');
BEGIN
    IF to_regclass(name) IS NOT NULL THEN
        RETURN name;
    END IF;
    IF EXISTS (SELECT 1 FROM usage_rows_default WHERE occurred_at_us >= lo AND occurred_at_us < hi) THEN
        RETURN 'usage_rows_default';
    END IF;
    EXECUTE format('CREATE TABLE %I PARTITION OF usage_rows FOR VALUES FROM (%s) TO (%s)', name, lo, hi);
    -- TRUNCATE of a partition fires no trigger of its parent.
    EXECUTE format(
        'CREATE TRIGGER usage_rows_no_truncate BEFORE TRUNCATE ON %I '
        'FOR EACH STATEMENT EXECUTE FUNCTION royalty_reject_usage_change()', name);
    RETURN name;
END
$$;

-- One partition per month the existing rows fall in, then the rows.
SELECT royalty_usage_month(m) FROM (
    SELECT DISTINCT occurred_at_us - occurred_at_us % 86400000000 AS m FROM usage_rows_v39
) AS days;

INSERT INTO usage_rows (position, batch_id, usage_key, source, usage_id, line_no, kind, occurred_at_us, isrc, upc,
    listener_hash, territory, seconds_played, currency, gross_micros, pricing_model, pricing_version,
    play_number, counted, payload_sha256, refund_of, refund_key)
SELECT position, batch_id, royalty_usage_slot(source, usage_id) | line_no, source, usage_id, line_no, kind,
    occurred_at_us, isrc, upc, listener_hash, territory, seconds_played, currency, gross_micros, pricing_model,
    pricing_version, play_number, counted, payload_sha256, refund_of,
    CASE WHEN kind = 'refund' THEN royalty_usage_slot(source, refund_of) | line_no END
FROM usage_rows_v39
ORDER BY position;

-- Stream2own: counted plays per (listener, recording) so far, and the position of the last batch.
CREATE TABLE usage_play_counts (
    listener_hash text NOT NULL,
    isrc text NOT NULL,
    plays int NOT NULL CHECK (plays > 0),
    position bigint NOT NULL,
    PRIMARY KEY (listener_hash, isrc)
) WITH (fillfactor = 80);
INSERT INTO usage_play_counts (listener_hash, isrc, plays, position)
SELECT listener_hash, isrc, max(play_number), max(position) FROM usage_rows_v39
WHERE pricing_model = 'stream2own' AND counted AND play_number IS NOT NULL
GROUP BY listener_hash, isrc;

-- The usage watermark (the highest position with usage lines), which every batch re-checks
-- under the log's write lock: a BRIN index cannot answer max(position) without a scan.
CREATE TABLE usage_watermark (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    position bigint NOT NULL
);
INSERT INTO usage_watermark (position) SELECT COALESCE(max(position), 0) FROM usage_rows_v39;

DROP TABLE usage_rows_v39;

CREATE UNIQUE INDEX usage_rows_key_idx ON usage_rows (usage_key, occurred_at_us);
CREATE INDEX usage_rows_position_idx ON usage_rows USING brin (position);
CREATE INDEX usage_rows_occurred_idx ON usage_rows USING brin (occurred_at_us);
-- Refunds are few: checked against the refunds already stored for the same sale.
CREATE INDEX usage_rows_refund_of_idx ON usage_rows (source, refund_of) WHERE kind = 'refund';

CREATE TRIGGER usage_rows_append_only
    BEFORE UPDATE OR DELETE ON usage_rows
    FOR EACH ROW EXECUTE FUNCTION royalty_reject_usage_change();
CREATE TRIGGER usage_rows_no_truncate
    BEFORE TRUNCATE ON usage_rows
    FOR EACH STATEMENT EXECUTE FUNCTION royalty_reject_change();
CREATE TRIGGER usage_rows_no_truncate
    BEFORE TRUNCATE ON usage_rows_default
    FOR EACH STATEMENT EXECUTE FUNCTION royalty_reject_usage_change();
DO $$
DECLARE part text;
BEGIN
    FOR part IN SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                WHERE i.inhparent = 'usage_rows'::regclass AND c.relname <> 'usage_rows_default' LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = part::regclass AND t.tgname = 'usage_rows_no_truncate') THEN
            EXECUTE format('CREATE TRIGGER usage_rows_no_truncate BEFORE TRUNCATE ON %I '
                           'FOR EACH STATEMENT EXECUTE FUNCTION royalty_reject_usage_change()', part);
        END IF;
    END LOOP;
END
$$;

-- The counters only grow: a play count never goes down, a pair never changes, nothing is deleted.
CREATE TRIGGER usage_play_counts_only_grow
    BEFORE UPDATE ON usage_play_counts
    FOR EACH ROW WHEN (NEW.plays < OLD.plays OR NEW.position < OLD.position
        OR NEW.listener_hash <> OLD.listener_hash OR NEW.isrc <> OLD.isrc)
    EXECUTE FUNCTION royalty_reject_change();
CREATE TRIGGER usage_play_counts_no_delete
    BEFORE DELETE ON usage_play_counts
    FOR EACH ROW EXECUTE FUNCTION royalty_reject_change();
CREATE TRIGGER usage_play_counts_no_truncate
    BEFORE TRUNCATE ON usage_play_counts
    FOR EACH STATEMENT EXECUTE FUNCTION royalty_reject_change();
CREATE TRIGGER usage_watermark_only_grows
    BEFORE UPDATE ON usage_watermark
    FOR EACH ROW WHEN (NEW.position < OLD.position OR NEW.one IS DISTINCT FROM OLD.one)
    EXECUTE FUNCTION royalty_reject_change();
CREATE TRIGGER usage_watermark_no_delete
    BEFORE DELETE ON usage_watermark
    FOR EACH ROW EXECUTE FUNCTION royalty_reject_change();
CREATE TRIGGER usage_watermark_no_truncate
    BEFORE TRUNCATE ON usage_watermark
    FOR EACH STATEMENT EXECUTE FUNCTION royalty_reject_change();
