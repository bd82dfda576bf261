-- Kept in step with migrations/postgres/0041 (the lean usage table's keys in its indexes only).
-- SQLite's usage_rows is unchanged (see 0040).
SELECT 1;
