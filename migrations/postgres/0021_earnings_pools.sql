-- Pool money in the live earnings (issue 17, projections.pools_earnings): each month's pool lines
-- as a statement at the folded position has them, as last written (the projector adds each
-- change to earn_account_day on the month's first day, earn_party_total and earn_party_day).
CREATE TABLE IF NOT EXISTS earn_pool_month (
    month_us bigint NOT NULL,
    isrc text NOT NULL,
    account text NOT NULL,
    currency text NOT NULL,
    kind text NOT NULL,
    territory text NOT NULL,
    amount_micros bigint NOT NULL,
    PRIMARY KEY (month_us, isrc, account, currency, kind, territory)
);
-- A store with pool contributions folded its earnings without them: fold the log again (the
-- projector starts the model from position 0 on its next batch). Stores without pools keep theirs.
DELETE FROM earn_gross_day WHERE EXISTS (SELECT 1 FROM pool_contributions);
DELETE FROM earn_account_day WHERE EXISTS (SELECT 1 FROM pool_contributions);
DELETE FROM earn_refund_day WHERE EXISTS (SELECT 1 FROM pool_contributions);
DELETE FROM earn_party_total WHERE EXISTS (SELECT 1 FROM pool_contributions);
DELETE FROM earn_party_day WHERE EXISTS (SELECT 1 FROM pool_contributions);
UPDATE projection_tracking SET position = 0
WHERE model = 'earnings' AND EXISTS (SELECT 1 FROM pool_contributions);
