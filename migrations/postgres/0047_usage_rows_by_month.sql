-- usage_rows partitioned by UTC month of occurred_at_us (issue 18; docs/scaling.md, "The log:
-- PostgreSQL, partitions and read replicas"): the same columns, keys, indexes and guarantees as
-- migration 0040, one partition per month holding plays, named usage_rows_YYYY_MM.
--
-- - A partition is made on demand by royalty_usage_month('YYYY-MM'), which the writer calls under
--   the log's write lock for every month of a batch that has none (ledger.usage.store); this
--   migration calls it for the months already stored. It does nothing for a month that has one.
-- - PostgreSQL holds a unique index of a partitioned table only within each partition, so the two
--   unique key indexes of 0040 are per partition (usage_rows_YYYY_MM_key, _key_lines), made with
--   it. A usage id stored in another month is refused by the writer: every batch's ids are looked
--   up in the other months' partitions before it is written, and under the log's write lock the
--   rows written since that lookup are checked again (ledger.usage.store, `_other_months`).
-- - BRIN on position and occurred_at_us, the stream2own numbering index and the refund index are
--   declared on the parent: PostgreSQL gives each partition its own.
-- - Append-only on every partition: the row trigger on the parent is cloned to each partition
--   (UPDATE, DELETE); TRUNCATE fires a partition's own statement triggers only, so each partition
--   gets one as well as the parent.
-- Rows written before this migration move into the partitions (one copy, in position order).
LOCK TABLE stored_events IN EXCLUSIVE MODE;
LOCK TABLE usage_rows IN ACCESS EXCLUSIVE MODE;

ALTER TABLE usage_rows RENAME TO usage_rows_unpartitioned;

CREATE TABLE usage_rows (
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
) PARTITION BY RANGE (occurred_at_us);

-- The month's partition [first µs of the month, first µs of the next) with its unique key indexes
-- and its TRUNCATE trigger; nothing when it exists. Called under the log's write lock (the writer)
-- or in a migration, so two callers never race to make the same one. SECURITY DEFINER: the
-- partition is made by, and belongs to, the owner of usage_rows; the service's role (which may
-- only INSERT and SELECT the log tables, and create nothing) is granted EXECUTE on this alone
-- (ledger.store.roles), and reads and writes the partitions through usage_rows.
CREATE OR REPLACE FUNCTION royalty_usage_month(month text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    part text;
    first_day date;
BEGIN
    IF month !~ '^[0-9]{4}-(0[1-9]|1[0-2])$' THEN
        RAISE EXCEPTION 'a usage month is YYYY-MM, not %', month USING ERRCODE = 'invalid_parameter_value';
    END IF;
    part := 'usage_rows_' || replace(month, '-', '_');
    IF to_regclass(part) IS NOT NULL THEN
        RETURN;
    END IF;
    first_day := (month || '-01')::date;
    -- epoch of a date or timestamp without time zone: seconds since 1970-01-01 00:00 as written,
    -- i.e. UTC here; numeric, so exact.
    EXECUTE format('CREATE TABLE %I PARTITION OF usage_rows FOR VALUES FROM (%s) TO (%s)', part,
                   (extract(epoch FROM first_day) * 1000000)::bigint,
                   (extract(epoch FROM first_day + interval '1 month') * 1000000)::bigint);
    EXECUTE format('CREATE UNIQUE INDEX %I ON %I ((royalty_usage_key(source, usage_id) + probe)) '
                   'WHERE line_no = 0', part || '_key', part);
    EXECUTE format('CREATE UNIQUE INDEX %I ON %I ((royalty_usage_key(source, usage_id) + probe), line_no) '
                   'WHERE line_no > 0', part || '_key_lines', part);
    EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT '
                   'EXECUTE FUNCTION royalty_reject_change()', part || '_no_truncate', part);
END;
$$;
REVOKE ALL ON FUNCTION royalty_usage_month(text) FROM PUBLIC;

SELECT royalty_usage_month(m)
FROM (SELECT DISTINCT to_char(timestamp 'epoch' + occurred_at_us * interval '1 microsecond', 'YYYY-MM') AS m
      FROM usage_rows_unpartitioned) AS months
ORDER BY m;

INSERT INTO usage_rows
SELECT * FROM usage_rows_unpartitioned ORDER BY position, source, usage_id, line_no;

DROP TABLE usage_rows_unpartitioned;

-- After the old table's indexes are gone (their names), built once over the moved rows.
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
