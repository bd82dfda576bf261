-- Kept in step with migrations/sqlite/0050 (SQLite's usage rows with a listener dictionary, coded
-- kind and pricing model, and recomputable payload hashes left out). PostgreSQL: nothing changes.
SELECT 1;
