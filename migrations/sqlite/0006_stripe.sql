-- Stripe: every webhook event handled, by Stripe event id, written in the same transaction as
-- its PaymentEventHandled event. Insert-only: a redelivered event finds its row and does nothing.
CREATE TABLE IF NOT EXISTS stripe_webhook_events (
    event_id TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    object_id TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'duplicate', 'quarantined', 'ignored')),
    usage_id TEXT,
    handled_at_us INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS stripe_webhook_events_object_idx ON stripe_webhook_events (object_id);

CREATE TRIGGER IF NOT EXISTS stripe_webhook_events_no_update
BEFORE UPDATE ON stripe_webhook_events
BEGIN
    SELECT RAISE(ABORT, 'stripe_webhook_events is append-only: UPDATE is not allowed');
END;
CREATE TRIGGER IF NOT EXISTS stripe_webhook_events_no_delete
BEFORE DELETE ON stripe_webhook_events
BEGIN
    SELECT RAISE(ABORT, 'stripe_webhook_events is append-only: DELETE is not allowed');
END;
