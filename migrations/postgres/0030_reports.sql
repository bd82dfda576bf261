-- Sales reports from other services (issue 20, docs/reports.md): one line per accepted report
-- line, written in the same transaction as the report's SalesReport.Imported event.
-- Insert-only: triggers reject UPDATE, DELETE and TRUNCATE.
CREATE TABLE IF NOT EXISTS report_lines (
    position bigint NOT NULL,
    report_id text NOT NULL,
    line_no int NOT NULL,
    source text NOT NULL,
    right_type text NOT NULL
        CHECK (right_type IN ('performance', 'mechanical', 'sync', 'neighbouring', 'master')),
    occurred_at_us bigint NOT NULL,
    territory text NOT NULL,
    isrc text,
    upc text,
    iswc text,
    grid text,
    platform_id text,
    proprietary_id text,
    title text,
    artist text,
    units bigint NOT NULL,
    currency text NOT NULL,
    gross_micros bigint NOT NULL,
    net_micros bigint NOT NULL,
    target_currency text NOT NULL,
    amount_micros bigint NOT NULL,
    PRIMARY KEY (report_id, line_no)
);
CREATE INDEX IF NOT EXISTS report_lines_position_idx ON report_lines (position);

-- Lines that could not be accepted, with their reason and the raw line; never dropped.
CREATE TABLE IF NOT EXISTS report_quarantine (
    position bigint NOT NULL,
    report_id text NOT NULL,
    line_no int NOT NULL,
    source text NOT NULL,
    reason text NOT NULL,
    detail text NOT NULL,
    raw_line text NOT NULL,
    PRIMARY KEY (report_id, line_no)
);

-- A corrected report supersedes an earlier one from the position of its import on.
CREATE TABLE IF NOT EXISTS report_supersessions (
    report_id text PRIMARY KEY,
    superseded_by text NOT NULL,
    position bigint NOT NULL
);

CREATE TRIGGER report_lines_append_only
    BEFORE UPDATE OR DELETE ON report_lines
    FOR EACH ROW EXECUTE FUNCTION royalty_reject_change();
CREATE TRIGGER report_lines_no_truncate
    BEFORE TRUNCATE ON report_lines
    FOR EACH STATEMENT EXECUTE FUNCTION royalty_reject_change();
CREATE TRIGGER report_quarantine_append_only
    BEFORE UPDATE OR DELETE ON report_quarantine
    FOR EACH ROW EXECUTE FUNCTION royalty_reject_change();
CREATE TRIGGER report_quarantine_no_truncate
    BEFORE TRUNCATE ON report_quarantine
    FOR EACH STATEMENT EXECUTE FUNCTION royalty_reject_change();
CREATE TRIGGER report_supersessions_append_only
    BEFORE UPDATE OR DELETE ON report_supersessions
    FOR EACH ROW EXECUTE FUNCTION royalty_reject_change();
CREATE TRIGGER report_supersessions_no_truncate
    BEFORE TRUNCATE ON report_supersessions
    FOR EACH STATEMENT EXECUTE FUNCTION royalty_reject_change();
