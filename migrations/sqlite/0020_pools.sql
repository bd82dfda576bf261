-- Pools (issue 17): contributions to subscription, patronage and surplus pools, one row per
-- accepted contribution (or refund of one), written in the same transaction as its
-- PoolContributionBatch event. funder_hash is the contributing listener's HMAC (never a raw id),
-- or NULL when the co-op funds it; target is the party a patronage supports (NULL: the pool's rule).
CREATE TABLE IF NOT EXISTS pool_contributions (
    position INTEGER NOT NULL,
    batch_id TEXT NOT NULL,
    source TEXT NOT NULL,
    contribution_id TEXT NOT NULL,
    pool_key TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('payment', 'refund')),
    occurred_at_us INTEGER NOT NULL,
    funder_hash TEXT,
    target TEXT,
    currency TEXT NOT NULL,
    amount_micros INTEGER NOT NULL,
    refund_of TEXT,
    payload_sha256 TEXT NOT NULL,
    PRIMARY KEY (source, contribution_id)
);
CREATE INDEX IF NOT EXISTS pool_contributions_pool_idx ON pool_contributions (pool_key, occurred_at_us);
CREATE INDEX IF NOT EXISTS pool_contributions_refund_idx ON pool_contributions (source, refund_of) WHERE kind = 'refund';

-- Contribution rows that could not be accepted, with their reason; never dropped.
CREATE TABLE IF NOT EXISTS pool_contribution_quarantine (
    quarantine_id TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    batch_id TEXT NOT NULL,
    source TEXT NOT NULL,
    contribution_id TEXT,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL,
    raw_row TEXT NOT NULL
);

-- Gift credits: stream2own credits granted to a listener, by the co-op or by a friend. Their
-- own source: who funded them (a listener HMAC or "coop") and what was spent of them.
CREATE TABLE IF NOT EXISTS gift_credits (
    position INTEGER NOT NULL,
    gift_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('grant', 'spend')),
    listener_hash TEXT NOT NULL,
    funded_by TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount_micros INTEGER NOT NULL,
    usage_ref TEXT,
    occurred_at_us INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS gift_credits_listener_idx ON gift_credits (listener_hash);

CREATE TRIGGER IF NOT EXISTS pool_contributions_no_update BEFORE UPDATE ON pool_contributions
BEGIN
    SELECT RAISE(ABORT, 'pool_contributions is append-only: UPDATE is not allowed');
END;
CREATE TRIGGER IF NOT EXISTS pool_contributions_no_delete BEFORE DELETE ON pool_contributions
BEGIN
    SELECT RAISE(ABORT, 'pool_contributions is append-only: DELETE is not allowed');
END;
CREATE TRIGGER IF NOT EXISTS pool_contributions_no_replace BEFORE INSERT ON pool_contributions
WHEN EXISTS (SELECT 1 FROM pool_contributions WHERE source = NEW.source AND contribution_id = NEW.contribution_id)
BEGIN
    SELECT RAISE(ABORT, 'pool_contributions is append-only: a row with this key exists (REPLACE is not allowed)');
END;
CREATE TRIGGER IF NOT EXISTS pool_contribution_quarantine_no_update BEFORE UPDATE ON pool_contribution_quarantine
BEGIN
    SELECT RAISE(ABORT, 'pool_contribution_quarantine is append-only: UPDATE is not allowed');
END;
CREATE TRIGGER IF NOT EXISTS pool_contribution_quarantine_no_delete BEFORE DELETE ON pool_contribution_quarantine
BEGIN
    SELECT RAISE(ABORT, 'pool_contribution_quarantine is append-only: DELETE is not allowed');
END;
CREATE TRIGGER IF NOT EXISTS pool_contribution_quarantine_no_replace BEFORE INSERT ON pool_contribution_quarantine
WHEN EXISTS (SELECT 1 FROM pool_contribution_quarantine WHERE quarantine_id = NEW.quarantine_id)
BEGIN
    SELECT RAISE(ABORT, 'pool_contribution_quarantine is append-only: a row with this key exists (REPLACE is not allowed)');
END;
CREATE TRIGGER IF NOT EXISTS gift_credits_no_update BEFORE UPDATE ON gift_credits
BEGIN
    SELECT RAISE(ABORT, 'gift_credits is append-only: UPDATE is not allowed');
END;
CREATE TRIGGER IF NOT EXISTS gift_credits_no_delete BEFORE DELETE ON gift_credits
BEGIN
    SELECT RAISE(ABORT, 'gift_credits is append-only: DELETE is not allowed');
END;
CREATE TRIGGER IF NOT EXISTS gift_credits_no_replace BEFORE INSERT ON gift_credits
WHEN EXISTS (SELECT 1 FROM gift_credits WHERE gift_id = NEW.gift_id)
BEGIN
    SELECT RAISE(ABORT, 'gift_credits is append-only: a row with this key exists (REPLACE is not allowed)');
END;
