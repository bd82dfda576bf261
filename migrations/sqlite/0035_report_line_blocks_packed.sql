-- report_line_blocks (0034): a block's bytes may be compressed by the importer (see
-- migrations/postgres/0035): `codec` 'lz4_frame' with `csv_size` the canonical CSV's length, or
-- 'none' (0034's blocks) for the CSV itself.
ALTER TABLE report_line_blocks ADD COLUMN codec TEXT NOT NULL DEFAULT 'none' CHECK (codec IN ('none', 'lz4_frame'));
ALTER TABLE report_line_blocks ADD COLUMN csv_size INTEGER CHECK (csv_size >= 0);
