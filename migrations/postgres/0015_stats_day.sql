-- Stats per day (issue 19): plays and revenue per recording × day × source × territory ×
-- currency, for the dashboard's charts and rankings by day, week, month and year — a day's
-- figures in one row instead of up to 24 (stats_source_hour) or 1 440 (stats_minute). Folded by
-- the stats read model; the fold starts again from position 0 to fill it for kept stores.
CREATE TABLE IF NOT EXISTS stats_day (
    isrc text NOT NULL,
    day_us bigint NOT NULL,
    source text NOT NULL,
    territory text NOT NULL,
    currency text NOT NULL,
    plays bigint NOT NULL,
    counted_plays bigint NOT NULL,
    units bigint NOT NULL,
    gross_micros bigint NOT NULL,
    PRIMARY KEY (isrc, day_us, source, territory, currency)
);
DELETE FROM stats_minute;
DELETE FROM stats_source_hour;
UPDATE projection_tracking SET position = 0 WHERE model = 'stats';
