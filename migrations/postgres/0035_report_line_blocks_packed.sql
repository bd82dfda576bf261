-- report_line_blocks (0034): a block's bytes may be compressed by the importer (lz4 frame format,
-- `codec` 'lz4_frame', `csv_size` the canonical CSV's length), so the server stores them as they
-- come (STORAGE EXTERNAL: no second compression, measured 0.13–0.15 s against 0.38–0.40 s for the
-- server's own lz4 of the same million lines, 35 MiB either way; the importer compresses its
-- blocks side by side in ~0.08 s). Blocks written by 0034's code keep codec 'none': their bytes
-- are the CSV itself. The lines' digest is of the CSV, whatever the codec.
ALTER TABLE report_line_blocks
    ADD COLUMN codec text NOT NULL DEFAULT 'none' CHECK (codec IN ('none', 'lz4_frame')),
    ADD COLUMN csv_size bigint CHECK (csv_size >= 0);
ALTER TABLE report_line_blocks ALTER COLUMN lines SET STORAGE EXTERNAL;
