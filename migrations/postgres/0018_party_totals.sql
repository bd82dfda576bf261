-- All-time sums for the dashboard's pies and rankings (issue 19): per party × recording ×
-- territory × currency, and plays per recording × source × territory × currency. Measured on
-- 10 M plays, the per-month sums of 0016 still had a large label's overview sum 12 000 rows per
-- figure, and that count grows with every month of history; these stay as large as the
-- catalogue × territories. Kept by the same batch folds (each change added), filled here from
-- the per-day tables. The per-month tables are read by nothing now: dropped. earn_party_day stays
-- (the timeline and this month's figures).
CREATE TABLE IF NOT EXISTS earn_party_total (
    account text NOT NULL,
    isrc text NOT NULL,
    territory text NOT NULL,
    currency text NOT NULL,
    amount_micros bigint NOT NULL,
    PRIMARY KEY (account, currency, isrc, territory)
);
CREATE TABLE IF NOT EXISTS stats_total (
    isrc text NOT NULL,
    source text NOT NULL,
    territory text NOT NULL,
    currency text NOT NULL,
    plays bigint NOT NULL,
    counted_plays bigint NOT NULL,
    units bigint NOT NULL,
    gross_micros bigint NOT NULL,
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
