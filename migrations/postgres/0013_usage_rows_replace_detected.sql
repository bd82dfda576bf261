-- Kept in step with migrations/sqlite/0013 (which drops SQLite's REPLACE trigger on usage_rows).
-- PostgreSQL has no REPLACE; its upsert is an UPDATE, refused by usage_rows_append_only.
SELECT 1;
