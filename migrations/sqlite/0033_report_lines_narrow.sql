-- report_lines keeps only what differs from line to line (see migrations/postgres/0033): the
-- source, the target currency and the report id go; a report's lines are the lines at its
-- event's position. Every line must first agree with its report's event, or the upgrade stops
-- (a temporary trigger is SQLite's way to refuse with a message outside a trigger of its own).
CREATE TEMP TABLE migration_0033_disagreeing (position INTEGER);
CREATE TEMP TRIGGER migration_0033_refuse BEFORE INSERT ON migration_0033_disagreeing
BEGIN
    SELECT RAISE(ABORT, 'migration 0033: report lines do not agree with their report''s event (report id, source or target currency); run `royalty audit verify` with the previous version');
END;
INSERT INTO migration_0033_disagreeing
SELECT l.position
FROM report_lines l
LEFT JOIN (
    SELECT rowid AS position, replace(originator_id, '-', '') AS report_id, CAST(state AS TEXT) AS event
    FROM stored_events
    WHERE topic = 'ledger.domain.sales_report:SalesReport.Imported'
) r ON r.position = l.position
WHERE r.position IS NULL
   OR r.report_id <> l.report_id
   OR json_extract(r.event, '$.source') IS NOT l.source
   OR COALESCE(json_extract(r.event, '$.conversions[0].target_currency'), l.currency) <> l.target_currency
LIMIT 1;
DROP TRIGGER migration_0033_refuse;
DROP TABLE migration_0033_disagreeing;

CREATE TABLE report_lines_0033 (
    position INTEGER NOT NULL,
    line_no INTEGER NOT NULL,
    right_type TEXT NOT NULL CHECK (right_type = 'performance' OR right_type = 'mechanical'
        OR right_type = 'sync' OR right_type = 'neighbouring' OR right_type = 'master'),
    occurred_at_us INTEGER NOT NULL,
    territory TEXT NOT NULL,
    isrc TEXT,
    upc TEXT,
    iswc TEXT,
    grid TEXT,
    platform_id TEXT,
    proprietary_id TEXT,
    title TEXT,
    artist TEXT,
    units INTEGER NOT NULL,
    currency TEXT NOT NULL,
    gross_micros INTEGER NOT NULL,
    net_micros INTEGER NOT NULL,
    amount_micros INTEGER NOT NULL,
    PRIMARY KEY (position, line_no)
);
INSERT INTO report_lines_0033
SELECT position, line_no, right_type, occurred_at_us, territory, isrc, upc, iswc, grid, platform_id,
       proprietary_id, title, artist, units, currency, gross_micros, net_micros, amount_micros
FROM report_lines;
-- DROP TABLE fires no trigger; the old table's triggers and index go with it.
DROP TABLE report_lines;
ALTER TABLE report_lines_0033 RENAME TO report_lines;

CREATE TRIGGER IF NOT EXISTS report_lines_no_update BEFORE UPDATE ON report_lines
BEGIN
    SELECT RAISE(ABORT, 'report_lines is append-only: UPDATE is not allowed');
END;
CREATE TRIGGER IF NOT EXISTS report_lines_no_delete BEFORE DELETE ON report_lines
BEGIN
    SELECT RAISE(ABORT, 'report_lines is append-only: DELETE is not allowed');
END;
CREATE TRIGGER IF NOT EXISTS report_lines_no_replace BEFORE INSERT ON report_lines
WHEN EXISTS (SELECT 1 FROM report_lines WHERE position = NEW.position AND line_no = NEW.line_no)
BEGIN
    SELECT RAISE(ABORT, 'report_lines is append-only: REPLACE is not allowed');
END;
