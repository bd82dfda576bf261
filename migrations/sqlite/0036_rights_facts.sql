-- The split versions and recording facts of the rights history, kept by the database as the
-- events are written (issue 20's distribution): see migrations/postgres/0036_rights_facts.sql.
-- Row triggers on stored_events write them in the transaction of the insert (an activation's
-- trigger finds the proposal and subject its agreement's earlier rows wrote); the rows of
-- stores migrated from before are backfilled below from the log with the same expressions.
-- Ids are SQLite's stored originator ids (ledger.store.log_reader turns them into UUID text).
-- Insert-only.
CREATE TABLE IF NOT EXISTS rights_split_subjects (
    agreement_id TEXT PRIMARY KEY,
    right_type TEXT,
    subject_key TEXT,
    position INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS rights_split_proposals (
    agreement_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    shares TEXT,
    effective_from TEXT,
    kind TEXT,
    position INTEGER NOT NULL,
    PRIMARY KEY (agreement_id, version)
);
CREATE TABLE IF NOT EXISTS rights_split_versions (
    position INTEGER PRIMARY KEY,
    agreement_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    right_type TEXT,
    subject_key TEXT,
    shares TEXT,
    effective_from TEXT,
    kind TEXT
);
CREATE TABLE IF NOT EXISTS rights_recording_facts (
    position INTEGER PRIMARY KEY,
    recording_id TEXT NOT NULL,
    isrc TEXT,
    title TEXT,
    work_key TEXT
);

INSERT INTO rights_split_subjects (agreement_id, right_type, subject_key, position)
SELECT originator_id, json_extract(CAST(state AS TEXT), '$.right'),
       json_extract(CAST(state AS TEXT), '$.subject_key'), rowid
FROM stored_events
WHERE topic IN ('ledger.domain.split_agreement:SplitAgreement.Opened',
                'ledger.domain.split_agreement:SplitAgreement.Established');
INSERT INTO rights_split_proposals (agreement_id, version, shares, effective_from, kind, position)
SELECT originator_id, json_extract(CAST(state AS TEXT), '$.version'),
       json_extract(CAST(state AS TEXT), '$.shares'),
       json_extract(CAST(state AS TEXT), '$.effective_from._data_'),
       json_extract(CAST(state AS TEXT), '$.kind'), rowid
FROM stored_events
WHERE topic IN ('ledger.domain.split_agreement:SplitAgreement.SplitVersionProposed',
                'ledger.domain.split_agreement:SplitAgreement.Established');
INSERT INTO rights_split_versions
    (position, agreement_id, version, right_type, subject_key, shares, effective_from, kind)
SELECT e.rowid, p.agreement_id, p.version, s.right_type, s.subject_key, p.shares, p.effective_from, p.kind
FROM stored_events e
JOIN rights_split_proposals p
    ON p.agreement_id = e.originator_id AND p.version = json_extract(CAST(e.state AS TEXT), '$.version')
JOIN rights_split_subjects s ON s.agreement_id = e.originator_id
WHERE e.topic IN ('ledger.domain.split_agreement:SplitAgreement.SplitVersionActivated',
                  'ledger.domain.split_agreement:SplitAgreement.Established');
INSERT INTO rights_recording_facts (position, recording_id, isrc, title, work_key)
SELECT rowid, originator_id, json_extract(CAST(state AS TEXT), '$.isrc'),
       json_extract(CAST(state AS TEXT), '$.title'), json_extract(CAST(state AS TEXT), '$.work_key')
FROM stored_events
WHERE topic IN ('ledger.domain.recording:Recording.Registered',
                'ledger.domain.recording:Recording.DetailsUpdated');

-- One trigger per topic: SQLite does not promise an order among the triggers of one insert,
-- so an Established event (subject, proposal and activation in one) writes its three rows itself.
CREATE TRIGGER rights_split_opened_record AFTER INSERT ON stored_events
WHEN NEW.topic = 'ledger.domain.split_agreement:SplitAgreement.Opened'
BEGIN
    INSERT INTO rights_split_subjects (agreement_id, right_type, subject_key, position)
    VALUES (NEW.originator_id, json_extract(CAST(NEW.state AS TEXT), '$.right'),
            json_extract(CAST(NEW.state AS TEXT), '$.subject_key'), NEW.rowid);
END;
CREATE TRIGGER rights_split_proposed_record AFTER INSERT ON stored_events
WHEN NEW.topic = 'ledger.domain.split_agreement:SplitAgreement.SplitVersionProposed'
BEGIN
    INSERT INTO rights_split_proposals (agreement_id, version, shares, effective_from, kind, position)
    VALUES (NEW.originator_id, json_extract(CAST(NEW.state AS TEXT), '$.version'),
            json_extract(CAST(NEW.state AS TEXT), '$.shares'),
            json_extract(CAST(NEW.state AS TEXT), '$.effective_from._data_'),
            json_extract(CAST(NEW.state AS TEXT), '$.kind'), NEW.rowid);
END;
CREATE TRIGGER rights_split_activated_record AFTER INSERT ON stored_events
WHEN NEW.topic = 'ledger.domain.split_agreement:SplitAgreement.SplitVersionActivated'
BEGIN
    INSERT INTO rights_split_versions
        (position, agreement_id, version, right_type, subject_key, shares, effective_from, kind)
    SELECT NEW.rowid, p.agreement_id, p.version, s.right_type, s.subject_key, p.shares, p.effective_from, p.kind
    FROM rights_split_proposals p JOIN rights_split_subjects s ON s.agreement_id = p.agreement_id
    WHERE p.agreement_id = NEW.originator_id AND p.version = json_extract(CAST(NEW.state AS TEXT), '$.version');
END;
CREATE TRIGGER rights_split_established_record AFTER INSERT ON stored_events
WHEN NEW.topic = 'ledger.domain.split_agreement:SplitAgreement.Established'
BEGIN
    INSERT INTO rights_split_subjects (agreement_id, right_type, subject_key, position)
    VALUES (NEW.originator_id, json_extract(CAST(NEW.state AS TEXT), '$.right'),
            json_extract(CAST(NEW.state AS TEXT), '$.subject_key'), NEW.rowid);
    INSERT INTO rights_split_proposals (agreement_id, version, shares, effective_from, kind, position)
    VALUES (NEW.originator_id, json_extract(CAST(NEW.state AS TEXT), '$.version'),
            json_extract(CAST(NEW.state AS TEXT), '$.shares'),
            json_extract(CAST(NEW.state AS TEXT), '$.effective_from._data_'),
            json_extract(CAST(NEW.state AS TEXT), '$.kind'), NEW.rowid);
    INSERT INTO rights_split_versions
        (position, agreement_id, version, right_type, subject_key, shares, effective_from, kind)
    VALUES (NEW.rowid, NEW.originator_id, json_extract(CAST(NEW.state AS TEXT), '$.version'),
            json_extract(CAST(NEW.state AS TEXT), '$.right'),
            json_extract(CAST(NEW.state AS TEXT), '$.subject_key'),
            json_extract(CAST(NEW.state AS TEXT), '$.shares'),
            json_extract(CAST(NEW.state AS TEXT), '$.effective_from._data_'),
            json_extract(CAST(NEW.state AS TEXT), '$.kind'));
END;
CREATE TRIGGER rights_recording_facts_record AFTER INSERT ON stored_events
WHEN NEW.topic IN ('ledger.domain.recording:Recording.Registered',
                   'ledger.domain.recording:Recording.DetailsUpdated')
BEGIN
    INSERT INTO rights_recording_facts (position, recording_id, isrc, title, work_key)
    VALUES (NEW.rowid, NEW.originator_id, json_extract(CAST(NEW.state AS TEXT), '$.isrc'),
            json_extract(CAST(NEW.state AS TEXT), '$.title'),
            json_extract(CAST(NEW.state AS TEXT), '$.work_key'));
END;

-- Insert-only, as the log they come from.
CREATE TRIGGER rights_split_subjects_no_update BEFORE UPDATE ON rights_split_subjects
BEGIN
    SELECT RAISE(ABORT, 'rights_split_subjects is append-only: UPDATE is not allowed');
END;
CREATE TRIGGER rights_split_subjects_no_delete BEFORE DELETE ON rights_split_subjects
BEGIN
    SELECT RAISE(ABORT, 'rights_split_subjects is append-only: DELETE is not allowed');
END;
CREATE TRIGGER rights_split_proposals_no_update BEFORE UPDATE ON rights_split_proposals
BEGIN
    SELECT RAISE(ABORT, 'rights_split_proposals is append-only: UPDATE is not allowed');
END;
CREATE TRIGGER rights_split_proposals_no_delete BEFORE DELETE ON rights_split_proposals
BEGIN
    SELECT RAISE(ABORT, 'rights_split_proposals is append-only: DELETE is not allowed');
END;
CREATE TRIGGER rights_split_versions_no_update BEFORE UPDATE ON rights_split_versions
BEGIN
    SELECT RAISE(ABORT, 'rights_split_versions is append-only: UPDATE is not allowed');
END;
CREATE TRIGGER rights_split_versions_no_delete BEFORE DELETE ON rights_split_versions
BEGIN
    SELECT RAISE(ABORT, 'rights_split_versions is append-only: DELETE is not allowed');
END;
CREATE TRIGGER rights_recording_facts_no_update BEFORE UPDATE ON rights_recording_facts
BEGIN
    SELECT RAISE(ABORT, 'rights_recording_facts is append-only: UPDATE is not allowed');
END;
CREATE TRIGGER rights_recording_facts_no_delete BEFORE DELETE ON rights_recording_facts
BEGIN
    SELECT RAISE(ABORT, 'rights_recording_facts is append-only: DELETE is not allowed');
END;
