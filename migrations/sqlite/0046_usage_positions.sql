-- SQLite usage rows found by position without a per-row position index (issue 18): rows are
-- appended in position order (0045 copied them so, the writer appends each batch in one run), so a
-- batch's rows are one rowid range, recorded once per batch in usage_positions (position, first
-- and last rowid), written in the same transaction as the rows. Readers of a position range read
-- the rowid span of the runs recorded for the positions in it (`ledger.usage.positions`) and
-- re-check the position on each row, so several runs at one position (rows written apart, by a
-- test's fixture) are all found; the usage watermark is MAX(position) here, as on PostgreSQL
-- (0040). The btree on position cost ≈ 12.5 bytes and ≈ 0.4 s of the writer's CPU per million
-- rows (docs/usage-formats.md, "Performance").
CREATE TABLE usage_positions (
    position INTEGER NOT NULL,
    first_row INTEGER NOT NULL,
    last_row INTEGER NOT NULL CHECK (last_row >= first_row)
);
CREATE INDEX usage_positions_position_idx ON usage_positions (position);
INSERT INTO usage_positions (position, first_row, last_row)
SELECT position, MIN(rowid), MAX(rowid) FROM usage_rows GROUP BY position ORDER BY position;
DROP INDEX usage_rows_position_idx;
CREATE TRIGGER usage_positions_no_update BEFORE UPDATE ON usage_positions
BEGIN
    SELECT RAISE(ABORT, 'usage_positions is append-only: UPDATE is not allowed');
END;
CREATE TRIGGER usage_positions_no_delete BEFORE DELETE ON usage_positions
BEGIN
    SELECT RAISE(ABORT, 'usage_positions is append-only: DELETE is not allowed');
END;
-- No unique key but the rowid, so a REPLACE can only conflict on an explicit rowid: refused.
CREATE TRIGGER usage_positions_no_replace BEFORE INSERT ON usage_positions
WHEN EXISTS (SELECT 1 FROM usage_positions WHERE rowid = NEW.rowid)
BEGIN
    SELECT RAISE(ABORT, 'usage_positions is append-only: a row with this rowid exists (REPLACE is not allowed)');
END;
