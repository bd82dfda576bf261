-- Sales reports from other services (issue 20, docs/reports.md): one line per accepted report
-- line, written in the same transaction as the report's SalesReport.Imported event.
-- Insert-only: triggers reject UPDATE, DELETE and REPLACE.
CREATE TABLE IF NOT EXISTS report_lines (
    position INTEGER NOT NULL,
    report_id TEXT NOT NULL,
    line_no INTEGER NOT NULL,
    source TEXT NOT NULL,
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
    target_currency TEXT NOT NULL,
    amount_micros INTEGER NOT NULL,
    PRIMARY KEY (report_id, line_no)
);
CREATE INDEX IF NOT EXISTS report_lines_position_idx ON report_lines (position);

-- Lines that could not be accepted, with their reason and the raw line; never dropped.
CREATE TABLE IF NOT EXISTS report_quarantine (
    position INTEGER NOT NULL,
    report_id TEXT NOT NULL,
    line_no INTEGER NOT NULL,
    source TEXT NOT NULL,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL,
    raw_line TEXT NOT NULL,
    PRIMARY KEY (report_id, line_no)
);

-- A corrected report supersedes an earlier one from the position of its import on.
CREATE TABLE IF NOT EXISTS report_supersessions (
    report_id TEXT PRIMARY KEY,
    superseded_by TEXT NOT NULL,
    position INTEGER NOT NULL
);

CREATE TRIGGER IF NOT EXISTS report_lines_no_update BEFORE UPDATE ON report_lines
BEGIN
    SELECT RAISE(ABORT, 'report_lines is append-only: UPDATE is not allowed');
END;
CREATE TRIGGER IF NOT EXISTS report_lines_no_delete BEFORE DELETE ON report_lines
BEGIN
    SELECT RAISE(ABORT, 'report_lines is append-only: DELETE is not allowed');
END;
CREATE TRIGGER IF NOT EXISTS report_quarantine_no_update BEFORE UPDATE ON report_quarantine
BEGIN
    SELECT RAISE(ABORT, 'report_quarantine is append-only: UPDATE is not allowed');
END;
CREATE TRIGGER IF NOT EXISTS report_quarantine_no_delete BEFORE DELETE ON report_quarantine
BEGIN
    SELECT RAISE(ABORT, 'report_quarantine is append-only: DELETE is not allowed');
END;
CREATE TRIGGER IF NOT EXISTS report_supersessions_no_update BEFORE UPDATE ON report_supersessions
BEGIN
    SELECT RAISE(ABORT, 'report_supersessions is append-only: UPDATE is not allowed');
END;
CREATE TRIGGER IF NOT EXISTS report_supersessions_no_delete BEFORE DELETE ON report_supersessions
BEGIN
    SELECT RAISE(ABORT, 'report_supersessions is append-only: DELETE is not allowed');
END;
CREATE TRIGGER IF NOT EXISTS report_lines_no_replace BEFORE INSERT ON report_lines
WHEN EXISTS (SELECT 1 FROM report_lines WHERE report_id = NEW.report_id AND line_no = NEW.line_no)
BEGIN
    SELECT RAISE(ABORT, 'report_lines is append-only: REPLACE is not allowed');
END;
