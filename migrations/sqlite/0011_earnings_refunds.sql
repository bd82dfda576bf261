-- Refunds are allocated under the key of the sale they reverse (DESIGN.md "Refunds reverse the
-- sale they refund"): the earnings read model keeps them apart from the gross it folds by
-- (recording, kind, territory, model, day), with what decides their key — the sale's kind,
-- pricing model, territory and instant — and the day the refund occurred.
CREATE TABLE IF NOT EXISTS earn_refund_day (
    isrc TEXT NOT NULL,
    currency TEXT NOT NULL,
    territory TEXT NOT NULL,
    sale_kind TEXT NOT NULL,
    sale_model TEXT NOT NULL,
    sale_at_us INTEGER NOT NULL,
    day_us INTEGER NOT NULL,
    units INTEGER NOT NULL,
    gross_micros INTEGER NOT NULL,
    PRIMARY KEY (isrc, currency, territory, sale_kind, sale_model, sale_at_us, day_us)
);
-- The earnings already folded allocated refunds as usage of their own instant: fold the log
-- again (the projector starts the model from position 0 on its next batch).
DELETE FROM earn_gross_day;
DELETE FROM earn_account_day;
UPDATE projection_tracking SET position = 0 WHERE model = 'earnings';
