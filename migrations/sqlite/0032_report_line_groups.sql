-- A report's lines grouped as distribution reads them (see migrations/postgres/0032): one row
-- per (source, right type, territory, target currency, usage period start, identifiers) of each
-- report, written with its lines in the transaction of its event. Insert-only.
CREATE TABLE IF NOT EXISTS report_line_groups (
    position INTEGER NOT NULL,
    report_id TEXT NOT NULL,
    source TEXT NOT NULL,
    right_type TEXT NOT NULL,
    territory TEXT NOT NULL,
    target_currency TEXT NOT NULL,
    occurred_at_us INTEGER NOT NULL,
    isrc TEXT,
    upc TEXT,
    iswc TEXT,
    grid TEXT,
    platform_id TEXT,
    proprietary_id TEXT,
    lines INTEGER NOT NULL,
    units INTEGER NOT NULL,
    amount_micros INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS report_line_groups_period_idx ON report_line_groups (occurred_at_us);

CREATE TRIGGER IF NOT EXISTS report_line_groups_no_update BEFORE UPDATE ON report_line_groups
BEGIN
    SELECT RAISE(ABORT, 'report_line_groups is append-only: UPDATE is not allowed');
END;
CREATE TRIGGER IF NOT EXISTS report_line_groups_no_delete BEFORE DELETE ON report_line_groups
BEGIN
    SELECT RAISE(ABORT, 'report_line_groups is append-only: DELETE is not allowed');
END;

INSERT INTO report_line_groups
SELECT position, report_id, source, right_type, territory, target_currency, occurred_at_us,
       isrc, upc, iswc, grid, platform_id, proprietary_id,
       count(*), sum(units), sum(amount_micros)
FROM report_lines
GROUP BY position, report_id, source, right_type, territory, target_currency, occurred_at_us,
         isrc, upc, iswc, grid, platform_id, proprietary_id;
