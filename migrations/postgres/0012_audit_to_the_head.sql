-- Tamper evidence to the head (issue 15).
--
-- Every event's digest, recorded when it is written, in the same transaction, by the database
-- itself: `royalty audit verify` compares every position up to the head with it, not only the
-- positions a checkpoint covers. digest = SHA-256(position as 8 bytes big-endian ‖ originator id
-- (UUID text) ‖ version as 8 bytes ‖ topic ‖ state), the digest the hash chain is made of
-- (ledger.audit). Positions written before this migration have none: `digests_from` says where
-- they start.
--
-- The trigger function is SECURITY DEFINER: it runs as the owner of the tables, so the
-- least-privilege role the service connects as (`royalty init --app-role`) inserts events but
-- can only read the digests — it cannot write a digest of its own choosing.
--
-- (REPLACE does not exist on PostgreSQL; its upsert, INSERT … ON CONFLICT DO UPDATE, fires the
-- row UPDATE triggers, which refuse it on every append-only table.)
LOCK TABLE stored_events IN EXCLUSIVE MODE;

CREATE TABLE IF NOT EXISTS audit_event_digests (
    position bigint PRIMARY KEY,
    digest bytea NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_state (
    name text PRIMARY KEY,
    value bigint NOT NULL
);
INSERT INTO audit_state (name, value)
    SELECT 'digests_from', COALESCE(MAX(notification_id), 0) + 1 FROM stored_events;

CREATE OR REPLACE FUNCTION royalty_record_event_digests() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO audit_event_digests (position, digest)
    SELECT notification_id,
           sha256(int8send(notification_id) || convert_to(originator_id::text, 'UTF8')
                  || int8send(originator_version) || convert_to(coalesce(topic, ''), 'UTF8')
                  || coalesce(state, ''::bytea))
    FROM inserted_events;
    RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION royalty_record_event_digests() FROM PUBLIC;

CREATE TRIGGER stored_events_digests
    AFTER INSERT ON stored_events
    REFERENCING NEW TABLE AS inserted_events
    FOR EACH STATEMENT EXECUTE FUNCTION royalty_record_event_digests();

CREATE TRIGGER audit_event_digests_append_only
    BEFORE UPDATE OR DELETE ON audit_event_digests
    FOR EACH ROW EXECUTE FUNCTION royalty_reject_change();
CREATE TRIGGER audit_event_digests_no_truncate
    BEFORE TRUNCATE ON audit_event_digests
    FOR EACH STATEMENT EXECUTE FUNCTION royalty_reject_change();
CREATE TRIGGER audit_state_append_only
    BEFORE UPDATE OR DELETE ON audit_state
    FOR EACH ROW EXECUTE FUNCTION royalty_reject_change();
CREATE TRIGGER audit_state_no_truncate
    BEFORE TRUNCATE ON audit_state
    FOR EACH STATEMENT EXECUTE FUNCTION royalty_reject_change();

-- The service's least-privilege role (`royalty init --app-role`) may INSERT and SELECT the log
-- tables only, but eventsourcing serialises writers with LOCK TABLE stored_events IN EXCLUSIVE
-- MODE, which PostgreSQL grants only with UPDATE, DELETE or TRUNCATE privilege. The recorder
-- takes the same lock through this function instead (the lock belongs to the caller's
-- transaction), so the role needs none of those.
CREATE OR REPLACE FUNCTION royalty_lock_stored_events() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    LOCK TABLE stored_events IN EXCLUSIVE MODE;
END;
$$;
REVOKE ALL ON FUNCTION royalty_lock_stored_events() FROM PUBLIC;
