-- report_lines keeps only what differs from line to line (issue 20's benchmark): the source and
-- the target currency, the same on every line of a report, are the report's (its
-- SalesReport.Imported event), and a report's lines are found by the position of that event,
-- which each line carries already (the report id was a second, 33-byte name for the same thing).
-- Three fewer columns per line: the COPY of a million lines writes ~45 MiB less.
-- Reports imported before this migration keep their digest: their event says lines_format 1
-- (by its upcaster), and `royalty audit verify` rebuilds the dropped columns from the event
-- (ledger.reports.store.with_report_columns) to recompute it.
--
-- So that no change made to a stored line disappears with its column, every line must first
-- agree with its report's event: id, source, and target currency (the conversions' target,
-- else the line's own currency). Otherwise the upgrade stops here, naming the first position:
-- run `royalty audit verify` with the previous version to see what was changed.
DO $$
DECLARE
    bad bigint;
BEGIN
    WITH reports AS MATERIALIZED (
        SELECT notification_id AS position,
               replace(originator_id::text, '-', '') AS report_id,
               convert_from(state, 'UTF8')::jsonb AS event
        FROM stored_events
        WHERE topic = 'ledger.domain.sales_report:SalesReport.Imported'
    )
    SELECT l.position INTO bad
    FROM report_lines l LEFT JOIN reports r ON r.position = l.position
    WHERE r.position IS NULL
       OR r.report_id <> l.report_id
       OR r.event ->> 'source' IS DISTINCT FROM l.source
       OR COALESCE(r.event -> 'conversions' -> 0 ->> 'target_currency', l.currency) <> l.target_currency
    ORDER BY l.position
    LIMIT 1;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'migration 0033: report lines at position % do not agree with their report''s event '
            '(report id, source or target currency); run `royalty audit verify` with the previous version', bad;
    END IF;
END
$$;

ALTER TABLE report_lines DROP COLUMN report_id, DROP COLUMN source, DROP COLUMN target_currency;
