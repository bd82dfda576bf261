-- The one application log (eventsourcing's PostgreSQL layout: notification_id is the global position).
CREATE TYPE stored_event_uuid AS (
    originator_id uuid,
    originator_version bigint,
    topic text,
    state bytea
);

CREATE TABLE IF NOT EXISTS stored_events (
    originator_id uuid NOT NULL,
    originator_version bigint NOT NULL,
    topic text,
    state bytea,
    notification_id bigserial,
    PRIMARY KEY (originator_id, originator_version)
) WITH (
    autovacuum_enabled = true,
    autovacuum_vacuum_threshold = 100000000,
    autovacuum_vacuum_scale_factor = 0.5,
    autovacuum_analyze_threshold = 1000,
    autovacuum_analyze_scale_factor = 0.01
);

CREATE UNIQUE INDEX IF NOT EXISTS stored_events_notification_id_idx
    ON stored_events (notification_id ASC);

-- Append-only is enforced by the database, not only by the code.
CREATE OR REPLACE FUNCTION royalty_reject_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER stored_events_append_only
    BEFORE UPDATE OR DELETE ON stored_events
    FOR EACH ROW EXECUTE FUNCTION royalty_reject_change();

CREATE TRIGGER stored_events_no_truncate
    BEFORE TRUNCATE ON stored_events
    FOR EACH STATEMENT EXECUTE FUNCTION royalty_reject_change();
