-- Kept in step with migrations/postgres/0040 (the lean usage table on PostgreSQL: 64-bit keys,
-- bytea hashes, no batch id per row, BRIN). SQLite keeps its usage_rows as migration 0009 left
-- it: its primary key on the text ids and its numbering index already serve the writer process,
-- and a SQLite store holds one machine's usage (docs/usage-formats.md, "Stored tables").
SELECT 1;
