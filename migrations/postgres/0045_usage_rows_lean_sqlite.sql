-- Kept in step with migrations/sqlite/0045 (the lean usage table on SQLite, with client-computed
-- 64-bit keys). PostgreSQL's lean table is migration 0040; nothing changes here.
SELECT 1;
