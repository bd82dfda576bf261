-- Stripe: every webhook event handled, by Stripe event id, written in the same transaction as
-- its PaymentEventHandled event. Insert-only: a redelivered event finds its row and does nothing.
CREATE TABLE IF NOT EXISTS stripe_webhook_events (
    event_id text PRIMARY KEY,
    position bigint NOT NULL,
    event_type text NOT NULL,
    object_id text NOT NULL,
    outcome text NOT NULL CHECK (outcome IN ('accepted', 'duplicate', 'quarantined', 'ignored')),
    usage_id text,
    handled_at_us bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS stripe_webhook_events_object_idx ON stripe_webhook_events (object_id);

CREATE TRIGGER stripe_webhook_events_append_only
    BEFORE UPDATE OR DELETE ON stripe_webhook_events
    FOR EACH ROW EXECUTE FUNCTION royalty_reject_change();
CREATE TRIGGER stripe_webhook_events_no_truncate
    BEFORE TRUNCATE ON stripe_webhook_events
    FOR EACH STATEMENT EXECUTE FUNCTION royalty_reject_change();
