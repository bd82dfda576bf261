-- Media: where each upload's original lives (written with its AudioUploaded event), every valid
-- upload's fingerprint (written with its AudioTranscoded event), the worker's tracking position
-- (moved in the same transaction as the outcome it records), and the catalogue view's audio rows.
CREATE TABLE IF NOT EXISTS media_uploads (
    position bigint PRIMARY KEY,
    isrc text NOT NULL,
    sha256 text NOT NULL,
    size_bytes bigint NOT NULL,
    UNIQUE (isrc, sha256)
);

CREATE TABLE IF NOT EXISTS media_fingerprints (
    position bigint PRIMARY KEY,
    isrc text NOT NULL,
    sha256 text NOT NULL,
    algorithm integer NOT NULL,
    fingerprint text NOT NULL
);

CREATE TRIGGER media_uploads_append_only
    BEFORE UPDATE OR DELETE ON media_uploads
    FOR EACH ROW EXECUTE FUNCTION royalty_reject_change();
CREATE TRIGGER media_uploads_no_truncate
    BEFORE TRUNCATE ON media_uploads
    FOR EACH STATEMENT EXECUTE FUNCTION royalty_reject_change();
CREATE TRIGGER media_fingerprints_append_only
    BEFORE UPDATE OR DELETE ON media_fingerprints
    FOR EACH ROW EXECUTE FUNCTION royalty_reject_change();
CREATE TRIGGER media_fingerprints_no_truncate
    BEFORE TRUNCATE ON media_fingerprints
    FOR EACH STATEMENT EXECUTE FUNCTION royalty_reject_change();

CREATE TABLE IF NOT EXISTS media_worker_tracking (
    worker text PRIMARY KEY,
    position bigint NOT NULL,
    updated_at_us bigint NOT NULL
);

-- Catalogue read model: one row per upload (isrc, sha256), folded from AudioAsset events.
CREATE TABLE IF NOT EXISTS cat_audio (
    isrc text NOT NULL,
    sha256 text NOT NULL,
    status text NOT NULL,
    detail text NOT NULL,
    uploaded_position bigint NOT NULL,
    position bigint NOT NULL,
    PRIMARY KEY (isrc, sha256)
);
