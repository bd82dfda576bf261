-- Earnings per party and month, and per party and day (issue 19, the dashboard's speed): the
-- overview's pies, totals and timeline read a few rows per party instead of summing its
-- per-day × recording × territory × kind rows (a 200-recording label's 90 days are ~360 000).
-- Kept by the earnings read model's batch fold with the same changes it writes to
-- earn_account_day (each part's new amount minus its old one), so they always add up to it.
-- Plays per month (stats_month) likewise beside stats_day. Filled here from the per-day tables
-- as they stand (same positions: the read models' tracking rows do not move). A later migration
-- that folds earnings (or stats) again from position 0 must empty these with the per-day tables.
CREATE TABLE IF NOT EXISTS earn_party_month (
    account TEXT NOT NULL,
    month_us INTEGER NOT NULL,
    isrc TEXT NOT NULL,
    territory TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount_micros INTEGER NOT NULL,
    PRIMARY KEY (account, month_us, isrc, territory, currency)
);
CREATE TABLE IF NOT EXISTS earn_party_day (
    account TEXT NOT NULL,
    day_us INTEGER NOT NULL,
    currency TEXT NOT NULL,
    amount_micros INTEGER NOT NULL,
    PRIMARY KEY (account, day_us, currency)
);
CREATE TABLE IF NOT EXISTS stats_month (
    isrc TEXT NOT NULL,
    month_us INTEGER NOT NULL,
    source TEXT NOT NULL,
    territory TEXT NOT NULL,
    currency TEXT NOT NULL,
    plays INTEGER NOT NULL,
    counted_plays INTEGER NOT NULL,
    units INTEGER NOT NULL,
    gross_micros INTEGER NOT NULL,
    PRIMARY KEY (isrc, month_us, source, territory, currency)
);
INSERT INTO earn_party_month (account, month_us, isrc, territory, currency, amount_micros)
SELECT account,
       CAST(strftime('%s', day_us / 1000000, 'unixepoch', 'start of month') AS INTEGER) * 1000000,
       isrc, territory, currency, SUM(amount_micros)
FROM earn_account_day
GROUP BY 1, 2, 3, 4, 5
HAVING SUM(amount_micros) <> 0;
INSERT INTO earn_party_day (account, day_us, currency, amount_micros)
SELECT account, day_us, currency, SUM(amount_micros) FROM earn_account_day GROUP BY 1, 2, 3
HAVING SUM(amount_micros) <> 0;
INSERT INTO stats_month (isrc, month_us, source, territory, currency, plays, counted_plays, units, gross_micros)
SELECT isrc,
       CAST(strftime('%s', day_us / 1000000, 'unixepoch', 'start of month') AS INTEGER) * 1000000,
       source, territory, currency, SUM(plays), SUM(counted_plays), SUM(units), SUM(gross_micros)
FROM stats_day
GROUP BY 1, 2, 3, 4, 5;
