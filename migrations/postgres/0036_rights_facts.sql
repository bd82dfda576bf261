-- The split versions and recording facts of the rights history, kept by the database as the
-- events are written (issue 20's distribution): a statement reads ~20 000 version rows and
-- ~20 000 recording rows with two queries instead of decoding ~80 000 events' JSON
-- (ledger.royalties.history.read_rights_history). Each row carries the position of the event
-- it comes from, so "as known at position P" is `position <= P`, exactly as the event fold.
--
-- - rights_split_subjects: an agreement's (right, subject), from Opened / Established;
-- - rights_split_proposals: each proposed version (shares as JSON, effective_from as the
--   event's ISO text, kind), from SplitVersionProposed / Established;
-- - rights_split_versions: each activation (SplitVersionActivated / Established) at its
--   position, with its proposal and subject — the history's VersionFact;
-- - rights_recording_facts: each Registered / DetailsUpdated (isrc NULL on DetailsUpdated).
--
-- Written by a statement trigger on stored_events in the transaction of the insert, as the
-- audit digests are (0012); SECURITY DEFINER, so the service's role only reads them. Insert-only.
-- Stores migrated from before have theirs backfilled below from the log; `royalty audit verify`
-- folds the events again and compares (ledger.royalties.facts).
LOCK TABLE stored_events IN EXCLUSIVE MODE;

CREATE TABLE IF NOT EXISTS rights_split_subjects (
    agreement_id text PRIMARY KEY,
    right_type text,
    subject_key text,
    position bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS rights_split_proposals (
    agreement_id text NOT NULL,
    version bigint NOT NULL,
    shares text,
    effective_from text,
    kind text,
    position bigint NOT NULL,
    PRIMARY KEY (agreement_id, version)
);
CREATE TABLE IF NOT EXISTS rights_split_versions (
    position bigint PRIMARY KEY,
    agreement_id text NOT NULL,
    version bigint NOT NULL,
    right_type text,
    subject_key text,
    shares text,
    effective_from text,
    kind text
);
CREATE TABLE IF NOT EXISTS rights_recording_facts (
    position bigint PRIMARY KEY,
    recording_id text NOT NULL,
    isrc text,
    title text,
    work_key text
);

CREATE OR REPLACE FUNCTION royalty_record_rights_facts() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM inserted_events WHERE topic IN (
        'ledger.domain.split_agreement:SplitAgreement.Opened',
        'ledger.domain.split_agreement:SplitAgreement.SplitVersionProposed',
        'ledger.domain.split_agreement:SplitAgreement.SplitVersionActivated',
        'ledger.domain.split_agreement:SplitAgreement.Established',
        'ledger.domain.recording:Recording.Registered',
        'ledger.domain.recording:Recording.DetailsUpdated')) THEN
        RETURN NULL;
    END IF;
    INSERT INTO rights_split_subjects (agreement_id, right_type, subject_key, position)
    SELECT originator_id::text, j->>'right', j->>'subject_key', notification_id
    FROM (SELECT originator_id, notification_id, convert_from(state, 'UTF8')::jsonb AS j
          FROM inserted_events
          WHERE topic IN ('ledger.domain.split_agreement:SplitAgreement.Opened',
                          'ledger.domain.split_agreement:SplitAgreement.Established')) e;
    INSERT INTO rights_split_proposals (agreement_id, version, shares, effective_from, kind, position)
    SELECT originator_id::text, (j->>'version')::bigint, (j->'shares')::text,
           j->'effective_from'->>'_data_', j->>'kind', notification_id
    FROM (SELECT originator_id, notification_id, convert_from(state, 'UTF8')::jsonb AS j
          FROM inserted_events
          WHERE topic IN ('ledger.domain.split_agreement:SplitAgreement.SplitVersionProposed',
                          'ledger.domain.split_agreement:SplitAgreement.Established')) e;
    INSERT INTO rights_split_versions
        (position, agreement_id, version, right_type, subject_key, shares, effective_from, kind)
    SELECT e.notification_id, p.agreement_id, p.version, s.right_type, s.subject_key,
           p.shares, p.effective_from, p.kind
    FROM (SELECT originator_id::text AS agreement_id, notification_id,
                 (convert_from(state, 'UTF8')::jsonb->>'version')::bigint AS version
          FROM inserted_events
          WHERE topic IN ('ledger.domain.split_agreement:SplitAgreement.SplitVersionActivated',
                          'ledger.domain.split_agreement:SplitAgreement.Established')) e
    JOIN rights_split_proposals p ON p.agreement_id = e.agreement_id AND p.version = e.version
    JOIN rights_split_subjects s ON s.agreement_id = e.agreement_id;
    INSERT INTO rights_recording_facts (position, recording_id, isrc, title, work_key)
    SELECT notification_id, originator_id::text, j->>'isrc', j->>'title', j->>'work_key'
    FROM (SELECT originator_id, notification_id, convert_from(state, 'UTF8')::jsonb AS j
          FROM inserted_events
          WHERE topic IN ('ledger.domain.recording:Recording.Registered',
                          'ledger.domain.recording:Recording.DetailsUpdated')) e;
    RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION royalty_record_rights_facts() FROM PUBLIC;

-- Stores migrated from before: the same rows from the log, in position order.
CREATE TEMPORARY TABLE inserted_events ON COMMIT DROP AS
    SELECT originator_id, notification_id, topic, state FROM stored_events
    WHERE topic IN ('ledger.domain.split_agreement:SplitAgreement.Opened',
                    'ledger.domain.split_agreement:SplitAgreement.SplitVersionProposed',
                    'ledger.domain.split_agreement:SplitAgreement.SplitVersionActivated',
                    'ledger.domain.split_agreement:SplitAgreement.Established',
                    'ledger.domain.recording:Recording.Registered',
                    'ledger.domain.recording:Recording.DetailsUpdated');
DO $$
DECLARE
    fn text;
BEGIN
    -- The trigger function's own body, run once over the temporary table of old events: the
    -- backfill cannot differ from what the trigger writes.
    SELECT prosrc INTO fn FROM pg_proc WHERE proname = 'royalty_record_rights_facts';
    EXECUTE 'CREATE FUNCTION pg_temp.royalty_backfill_rights_facts() RETURNS void LANGUAGE plpgsql AS $b$'
        || replace(fn, 'RETURN NULL;', 'RETURN;') || '$b$';
    PERFORM pg_temp.royalty_backfill_rights_facts();
END;
$$;
DROP TABLE inserted_events;

CREATE TRIGGER stored_events_rights_facts
    AFTER INSERT ON stored_events
    REFERENCING NEW TABLE AS inserted_events
    FOR EACH STATEMENT EXECUTE FUNCTION royalty_record_rights_facts();

-- Insert-only, as the log they come from.
CREATE TRIGGER rights_split_subjects_append_only
    BEFORE UPDATE OR DELETE ON rights_split_subjects
    FOR EACH ROW EXECUTE FUNCTION royalty_reject_change();
CREATE TRIGGER rights_split_subjects_no_truncate
    BEFORE TRUNCATE ON rights_split_subjects
    FOR EACH STATEMENT EXECUTE FUNCTION royalty_reject_change();
CREATE TRIGGER rights_split_proposals_append_only
    BEFORE UPDATE OR DELETE ON rights_split_proposals
    FOR EACH ROW EXECUTE FUNCTION royalty_reject_change();
CREATE TRIGGER rights_split_proposals_no_truncate
    BEFORE TRUNCATE ON rights_split_proposals
    FOR EACH STATEMENT EXECUTE FUNCTION royalty_reject_change();
CREATE TRIGGER rights_split_versions_append_only
    BEFORE UPDATE OR DELETE ON rights_split_versions
    FOR EACH ROW EXECUTE FUNCTION royalty_reject_change();
CREATE TRIGGER rights_split_versions_no_truncate
    BEFORE TRUNCATE ON rights_split_versions
    FOR EACH STATEMENT EXECUTE FUNCTION royalty_reject_change();
CREATE TRIGGER rights_recording_facts_append_only
    BEFORE UPDATE OR DELETE ON rights_recording_facts
    FOR EACH ROW EXECUTE FUNCTION royalty_reject_change();
CREATE TRIGGER rights_recording_facts_no_truncate
    BEFORE TRUNCATE ON rights_recording_facts
    FOR EACH STATEMENT EXECUTE FUNCTION royalty_reject_change();
