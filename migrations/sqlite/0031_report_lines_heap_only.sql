-- report_lines on SQLite keeps its primary key: the trigger refusing REPLACE (0030) looks each
-- line's key up, and SQLite has no other way to refuse a REPLACE. PostgreSQL's 0031 drops its
-- key and position index (see there). Nothing to change here; the number is kept in step.
SELECT 1;
