-- All-time sums for the dashboard's pies and rankings (issue 19): per party × recording ×
-- territory × currency, and plays per recording × source × territory × currency. Measured on
-- 10 M plays, the per-month sums of 0016 still had a large label's overview sum 12 000 rows per
-- figure, and that count grows with every month of history; these stay as large as the
-- catalogue × territories. Kept by the same batch folds (each change added), filled here from
-- the per-day tables. The per-month tables are read by nothing now: dropped. earn_party_day stays
-- (the timeline and this month's figures).
CREATE TABLE IF NOT EXISTS earn_party_total (
    account TEXT NOT NULL,
    isrc TEXT NOT NULL,
    territory TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount_micros INTEGER NOT NULL,
    PRIMARY KEY (account, currency, isrc, territory)
);
CREATE TABLE IF NOT EXISTS stats_total (
    isrc TEXT NOT NULL,
    source TEXT NOT NULL,
    territory TEXT NOT NULL,
    currency TEXT NOT NULL,
    plays INTEGER NOT NULL,
    counted_plays INTEGER NOT NULL,
    units INTEGER NOT NULL,
    gross_micros INTEGER NOT NULL,
    PRIMARY KEY (isrc, source, territory, currency)
);
INSERT INTO earn_party_total (account, isrc, territory, currency, amount_micros)
SELECT account, isrc, territory, currency, SUM(amount_micros)
FROM earn_account_day
GROUP BY 1, 2, 3, 4
HAVING SUM(amount_micros) <> 0;
INSERT INTO stats_total (isrc, source, territory, currency, plays, counted_plays, units, gross_micros)
SELECT isrc, source, territory, currency, SUM(plays), SUM(counted_plays), SUM(units), SUM(gross_micros)
FROM stats_day
GROUP BY 1, 2, 3, 4;
DROP TABLE IF EXISTS earn_party_month;
DROP TABLE IF EXISTS stats_month;
