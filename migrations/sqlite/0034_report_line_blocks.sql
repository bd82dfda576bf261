-- A report's lines as blocks of its canonical CSV (see migrations/postgres/0034): one row per
-- block of consecutive lines; the blocks of a report, in block order, are the bytes its event's
-- lines_sha256 digests. Reports imported before keep their rows in report_lines. Insert-only.
CREATE TABLE IF NOT EXISTS report_line_blocks (
    position INTEGER NOT NULL,
    block_no INTEGER NOT NULL,
    first_line_no INTEGER NOT NULL,
    line_count INTEGER NOT NULL CHECK (line_count > 0),
    lines BLOB NOT NULL,
    PRIMARY KEY (position, block_no)
);

CREATE TRIGGER IF NOT EXISTS report_line_blocks_no_update BEFORE UPDATE ON report_line_blocks
BEGIN
    SELECT RAISE(ABORT, 'report_line_blocks is append-only: UPDATE is not allowed');
END;
CREATE TRIGGER IF NOT EXISTS report_line_blocks_no_delete BEFORE DELETE ON report_line_blocks
BEGIN
    SELECT RAISE(ABORT, 'report_line_blocks is append-only: DELETE is not allowed');
END;
CREATE TRIGGER IF NOT EXISTS report_line_blocks_no_replace BEFORE INSERT ON report_line_blocks
WHEN EXISTS (SELECT 1 FROM report_line_blocks WHERE position = NEW.position AND block_no = NEW.block_no)
BEGIN
    SELECT RAISE(ABORT, 'report_line_blocks is append-only: REPLACE is not allowed');
END;
