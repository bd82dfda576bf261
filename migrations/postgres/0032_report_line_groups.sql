-- A report's lines grouped as distribution reads them (issue 20's benchmark): one row per
-- (source, right type, territory, target currency, usage period start, identifiers) of each
-- report, with its line count, units and converted amount, written by the import in the
-- transaction of the report's event, from the same accepted lines as report_lines. Statements,
-- live earnings and the money equation sum these (tens of thousands of rows) instead of grouping
-- every line again (a million); `royalty audit verify` regroups report_lines and compares.
-- Insert-only like report_lines.
CREATE TABLE IF NOT EXISTS report_line_groups (
    position bigint NOT NULL,
    report_id text NOT NULL,
    source text NOT NULL,
    right_type text NOT NULL,
    territory text NOT NULL,
    target_currency text NOT NULL,
    occurred_at_us bigint NOT NULL,
    isrc text,
    upc text,
    iswc text,
    grid text,
    platform_id text,
    proprietary_id text,
    lines bigint NOT NULL,
    units bigint NOT NULL,
    amount_micros bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS report_line_groups_period_idx ON report_line_groups (occurred_at_us);

CREATE TRIGGER report_line_groups_append_only
    BEFORE UPDATE OR DELETE ON report_line_groups
    FOR EACH ROW EXECUTE FUNCTION royalty_reject_change();
CREATE TRIGGER report_line_groups_no_truncate
    BEFORE TRUNCATE ON report_line_groups
    FOR EACH STATEMENT EXECUTE FUNCTION royalty_reject_change();

-- Reports imported before this migration: their groups, from their lines.
INSERT INTO report_line_groups
SELECT position, report_id, source, right_type, territory, target_currency, occurred_at_us,
       isrc, upc, iswc, grid, platform_id, proprietary_id,
       count(*), CAST(sum(units) AS BIGINT), CAST(sum(amount_micros) AS BIGINT)
FROM report_lines
GROUP BY position, report_id, source, right_type, territory, target_currency, occurred_at_us,
         isrc, upc, iswc, grid, platform_id, proprietary_id;
