-- report_lines on PostgreSQL: no primary key and no position index (issue 20's benchmark).
-- A report's lines are written once, by one COPY in the transaction of the report's event,
-- whose id is unique in the log: a second write of the same report fails on the event, so
-- (report_id, line_no) cannot repeat and the key only cost every line an index insert (about a
-- third of the COPY, measured on 200 000 lines). Every reader scans the table whole anyway
-- (lines up to a position, grouped), so the position index was never used to skip rows.
-- UPDATE, DELETE and TRUNCATE stay refused by the triggers of 0030.
ALTER TABLE report_lines DROP CONSTRAINT IF EXISTS report_lines_pkey;
DROP INDEX IF EXISTS report_lines_position_idx;
-- The position and report id of a report's lines come from the transaction that writes them
-- (SET LOCAL royalty.report_position / royalty.report_id, ledger/reports/store.py), so the
-- lines' canonical CSV goes to COPY as it is, without being rewritten line by line with them
-- (a copy of every byte in the client). Outside such a transaction the defaults fail: no line
-- can be written without naming its report.
ALTER TABLE report_lines ALTER COLUMN position SET DEFAULT current_setting('royalty.report_position')::bigint;
ALTER TABLE report_lines ALTER COLUMN report_id SET DEFAULT current_setting('royalty.report_id');
