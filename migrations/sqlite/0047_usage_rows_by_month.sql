-- Kept in step with migrations/postgres/0047 (usage_rows partitioned by month on PostgreSQL).
-- SQLite has no declarative partitioning and a SQLite store holds one machine's usage; nothing
-- changes here.
SELECT 1;
