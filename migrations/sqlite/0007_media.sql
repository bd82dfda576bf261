-- Media: where each upload's original lives (written with its AudioUploaded event), every valid
-- upload's fingerprint (written with its AudioTranscoded event), the worker's tracking position
-- (moved in the same transaction as the outcome it records), and the catalogue view's audio rows.
CREATE TABLE IF NOT EXISTS media_uploads (
    position INTEGER PRIMARY KEY,
    isrc TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    UNIQUE (isrc, sha256)
);

CREATE TABLE IF NOT EXISTS media_fingerprints (
    position INTEGER PRIMARY KEY,
    isrc TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    algorithm INTEGER NOT NULL,
    fingerprint TEXT NOT NULL
);

CREATE TRIGGER IF NOT EXISTS media_uploads_no_update BEFORE UPDATE ON media_uploads
BEGIN
    SELECT RAISE(ABORT, 'media_uploads is append-only: UPDATE is not allowed');
END;
CREATE TRIGGER IF NOT EXISTS media_uploads_no_delete BEFORE DELETE ON media_uploads
BEGIN
    SELECT RAISE(ABORT, 'media_uploads is append-only: DELETE is not allowed');
END;
CREATE TRIGGER IF NOT EXISTS media_fingerprints_no_update BEFORE UPDATE ON media_fingerprints
BEGIN
    SELECT RAISE(ABORT, 'media_fingerprints is append-only: UPDATE is not allowed');
END;
CREATE TRIGGER IF NOT EXISTS media_fingerprints_no_delete BEFORE DELETE ON media_fingerprints
BEGIN
    SELECT RAISE(ABORT, 'media_fingerprints is append-only: DELETE is not allowed');
END;

CREATE TABLE IF NOT EXISTS media_worker_tracking (
    worker TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    updated_at_us INTEGER NOT NULL
);

-- Catalogue read model: one row per upload (isrc, sha256), folded from AudioAsset events.
CREATE TABLE IF NOT EXISTS cat_audio (
    isrc TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    status TEXT NOT NULL,
    detail TEXT NOT NULL,
    uploaded_position INTEGER NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (isrc, sha256)
);
