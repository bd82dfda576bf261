-- Pools (issue 17): contributions to subscription, patronage and surplus pools, one row per
-- accepted contribution (or refund of one), written in the same transaction as its
-- PoolContributionBatch event. funder_hash is the contributing listener's HMAC (never a raw id),
-- or NULL when the co-op funds it; target is the party a patronage supports (NULL: the pool's rule).
CREATE TABLE IF NOT EXISTS pool_contributions (
    position bigint NOT NULL,
    batch_id text NOT NULL,
    source text NOT NULL,
    contribution_id text NOT NULL,
    pool_key text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('payment', 'refund')),
    occurred_at_us bigint NOT NULL,
    funder_hash text,
    target text,
    currency text NOT NULL,
    amount_micros bigint NOT NULL,
    refund_of text,
    payload_sha256 text NOT NULL,
    PRIMARY KEY (source, contribution_id)
);
CREATE INDEX IF NOT EXISTS pool_contributions_pool_idx ON pool_contributions (pool_key, occurred_at_us);
CREATE INDEX IF NOT EXISTS pool_contributions_refund_idx ON pool_contributions (source, refund_of) WHERE kind = 'refund';

-- Contribution rows that could not be accepted, with their reason; never dropped.
CREATE TABLE IF NOT EXISTS pool_contribution_quarantine (
    quarantine_id text PRIMARY KEY,
    position bigint NOT NULL,
    batch_id text NOT NULL,
    source text NOT NULL,
    contribution_id text,
    reason text NOT NULL,
    detail text NOT NULL,
    raw_row text NOT NULL
);

-- Gift credits: stream2own credits granted to a listener, by the co-op or by a friend. Their
-- own source: who funded them (a listener HMAC or "coop") and what was spent of them.
CREATE TABLE IF NOT EXISTS gift_credits (
    position bigint NOT NULL,
    gift_id text PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('grant', 'spend')),
    listener_hash text NOT NULL,
    funded_by text NOT NULL,
    currency text NOT NULL,
    amount_micros bigint NOT NULL,
    usage_ref text,
    occurred_at_us bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS gift_credits_listener_idx ON gift_credits (listener_hash);

CREATE TRIGGER pool_contributions_append_only
    BEFORE UPDATE OR DELETE ON pool_contributions
    FOR EACH ROW EXECUTE FUNCTION royalty_reject_change();
CREATE TRIGGER pool_contributions_no_truncate
    BEFORE TRUNCATE ON pool_contributions
    FOR EACH STATEMENT EXECUTE FUNCTION royalty_reject_change();
CREATE TRIGGER pool_contribution_quarantine_append_only
    BEFORE UPDATE OR DELETE ON pool_contribution_quarantine
    FOR EACH ROW EXECUTE FUNCTION royalty_reject_change();
CREATE TRIGGER pool_contribution_quarantine_no_truncate
    BEFORE TRUNCATE ON pool_contribution_quarantine
    FOR EACH STATEMENT EXECUTE FUNCTION royalty_reject_change();
CREATE TRIGGER gift_credits_append_only
    BEFORE UPDATE OR DELETE ON gift_credits
    FOR EACH ROW EXECUTE FUNCTION royalty_reject_change();
CREATE TRIGGER gift_credits_no_truncate
    BEFORE TRUNCATE ON gift_credits
    FOR EACH STATEMENT EXECUTE FUNCTION royalty_reject_change();
