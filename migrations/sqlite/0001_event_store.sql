-- The one application log (eventsourcing's SQLite layout: the rowid is the global position).
CREATE TABLE IF NOT EXISTS stored_events (
    originator_id TEXT,
    originator_version INTEGER,
    topic TEXT,
    state BLOB,
    PRIMARY KEY (originator_id, originator_version)
);

-- Append-only is enforced by the database, not only by the code.
CREATE TRIGGER IF NOT EXISTS stored_events_no_update
BEFORE UPDATE ON stored_events
BEGIN
    SELECT RAISE(ABORT, 'stored_events is append-only: UPDATE is not allowed');
END;

CREATE TRIGGER IF NOT EXISTS stored_events_no_delete
BEFORE DELETE ON stored_events
BEGIN
    SELECT RAISE(ABORT, 'stored_events is append-only: DELETE is not allowed');
END;
