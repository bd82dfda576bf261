-- Kept in step with migrations/sqlite/0046 (SQLite's usage_positions with rowid ranges instead of
-- a position index). PostgreSQL has had usage_positions since 0040; nothing changes here.
SELECT 1;
