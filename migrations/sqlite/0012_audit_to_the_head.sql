-- Tamper evidence to the head (issue 15).
--
-- 1. Every event's digest, recorded when it is written, in the same transaction (on SQLite the
--    application's recorder writes it; see ledger.store.recorders): `royalty audit verify`
--    compares every position up to the head with it, not only the positions a checkpoint
--    covers. digest = SHA-256(position as 8 bytes big-endian ‖ originator id (UUID text) ‖
--    version as 8 bytes ‖ topic ‖ state), the digest the hash chain is made of (ledger.audit).
--    Positions written before this migration have none: `digests_from` says where they start.
CREATE TABLE IF NOT EXISTS audit_event_digests (
    position INTEGER PRIMARY KEY,
    digest BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_state (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO audit_state (name, value)
    SELECT 'digests_from', COALESCE(MAX(rowid), 0) + 1 FROM stored_events;

CREATE TRIGGER audit_event_digests_no_update BEFORE UPDATE ON audit_event_digests
BEGIN
    SELECT RAISE(ABORT, 'audit_event_digests is append-only: UPDATE is not allowed');
END;
CREATE TRIGGER audit_event_digests_no_delete BEFORE DELETE ON audit_event_digests
BEGIN
    SELECT RAISE(ABORT, 'audit_event_digests is append-only: DELETE is not allowed');
END;
CREATE TRIGGER audit_state_no_update BEFORE UPDATE ON audit_state
BEGIN
    SELECT RAISE(ABORT, 'audit_state is append-only: UPDATE is not allowed');
END;
CREATE TRIGGER audit_state_no_delete BEFORE DELETE ON audit_state
BEGIN
    SELECT RAISE(ABORT, 'audit_state is append-only: DELETE is not allowed');
END;

-- 2. REPLACE is refused too. `INSERT OR REPLACE` (and `REPLACE INTO`) deletes the row it
--    conflicts with without firing DELETE triggers (unless a connection turns recursive_triggers
--    on), so the no_delete triggers never saw it. A BEFORE INSERT trigger refuses an insert whose
--    key, or explicit rowid, is already taken — whatever the conflict clause. A plain INSERT of a
--    taken key failed anyway; it still fails, as a constraint error, with this message.
--    (An upsert, INSERT … ON CONFLICT DO UPDATE, is an UPDATE: the no_update triggers refuse it.)

CREATE TRIGGER stored_events_no_replace BEFORE INSERT ON stored_events
WHEN EXISTS (SELECT 1 FROM stored_events WHERE originator_id = NEW.originator_id AND originator_version = NEW.originator_version) OR EXISTS (SELECT 1 FROM stored_events WHERE rowid = NEW.rowid)
BEGIN
    SELECT RAISE(ABORT, 'stored_events is append-only: a row with this key exists (REPLACE is not allowed)');
END;
CREATE TRIGGER usage_rows_no_replace BEFORE INSERT ON usage_rows
WHEN EXISTS (SELECT 1 FROM usage_rows WHERE source = NEW.source AND usage_id = NEW.usage_id AND line_no = NEW.line_no) OR EXISTS (SELECT 1 FROM usage_rows WHERE rowid = NEW.rowid)
BEGIN
    SELECT RAISE(ABORT, 'usage_rows is append-only: a row with this key exists (REPLACE is not allowed)');
END;
CREATE TRIGGER usage_quarantine_no_replace BEFORE INSERT ON usage_quarantine
WHEN EXISTS (SELECT 1 FROM usage_quarantine WHERE quarantine_id = NEW.quarantine_id)
    OR EXISTS (SELECT 1 FROM usage_quarantine WHERE source = NEW.source AND raw_sha256 = NEW.raw_sha256)
    OR EXISTS (SELECT 1 FROM usage_quarantine WHERE rowid = NEW.rowid)
BEGIN
    SELECT RAISE(ABORT, 'usage_quarantine is append-only: a row with this key exists (REPLACE is not allowed)');
END;
CREATE TRIGGER usage_quarantine_resolved_no_replace BEFORE INSERT ON usage_quarantine_resolved
WHEN EXISTS (SELECT 1 FROM usage_quarantine_resolved WHERE quarantine_id = NEW.quarantine_id) OR EXISTS (SELECT 1 FROM usage_quarantine_resolved WHERE rowid = NEW.rowid)
BEGIN
    SELECT RAISE(ABORT, 'usage_quarantine_resolved is append-only: a row with this key exists (REPLACE is not allowed)');
END;
CREATE TRIGGER usage_ownership_no_replace BEFORE INSERT ON usage_ownership
WHEN EXISTS (SELECT 1 FROM usage_ownership WHERE listener_hash = NEW.listener_hash AND isrc = NEW.isrc) OR EXISTS (SELECT 1 FROM usage_ownership WHERE rowid = NEW.rowid)
BEGIN
    SELECT RAISE(ABORT, 'usage_ownership is append-only: a row with this key exists (REPLACE is not allowed)');
END;
CREATE TRIGGER stripe_webhook_events_no_replace BEFORE INSERT ON stripe_webhook_events
WHEN EXISTS (SELECT 1 FROM stripe_webhook_events WHERE event_id = NEW.event_id) OR EXISTS (SELECT 1 FROM stripe_webhook_events WHERE rowid = NEW.rowid)
BEGIN
    SELECT RAISE(ABORT, 'stripe_webhook_events is append-only: a row with this key exists (REPLACE is not allowed)');
END;
CREATE TRIGGER media_uploads_no_replace BEFORE INSERT ON media_uploads
WHEN EXISTS (SELECT 1 FROM media_uploads WHERE position = NEW.position)
    OR EXISTS (SELECT 1 FROM media_uploads WHERE isrc = NEW.isrc AND sha256 = NEW.sha256)
    OR EXISTS (SELECT 1 FROM media_uploads WHERE rowid = NEW.rowid)
BEGIN
    SELECT RAISE(ABORT, 'media_uploads is append-only: a row with this key exists (REPLACE is not allowed)');
END;
CREATE TRIGGER media_fingerprints_no_replace BEFORE INSERT ON media_fingerprints
WHEN EXISTS (SELECT 1 FROM media_fingerprints WHERE position = NEW.position) OR EXISTS (SELECT 1 FROM media_fingerprints WHERE rowid = NEW.rowid)
BEGIN
    SELECT RAISE(ABORT, 'media_fingerprints is append-only: a row with this key exists (REPLACE is not allowed)');
END;
CREATE TRIGGER audit_event_digests_no_replace BEFORE INSERT ON audit_event_digests
WHEN EXISTS (SELECT 1 FROM audit_event_digests WHERE position = NEW.position) OR EXISTS (SELECT 1 FROM audit_event_digests WHERE rowid = NEW.rowid)
BEGIN
    SELECT RAISE(ABORT, 'audit_event_digests is append-only: a row with this key exists (REPLACE is not allowed)');
END;
CREATE TRIGGER audit_state_no_replace BEFORE INSERT ON audit_state
WHEN EXISTS (SELECT 1 FROM audit_state WHERE name = NEW.name) OR EXISTS (SELECT 1 FROM audit_state WHERE rowid = NEW.rowid)
BEGIN
    SELECT RAISE(ABORT, 'audit_state is append-only: a row with this key exists (REPLACE is not allowed)');
END;
