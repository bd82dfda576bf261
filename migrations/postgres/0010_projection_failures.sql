-- Poison events (issue 15): an event a read model cannot fold is recorded here — its position,
-- the model and the error — and skipped by that model only; the rest of its batch, and every
-- other model, goes on. A row is written in the same transaction as the batch it was skipped
-- in, so the record and the tracking position move together. `royalty project` and
-- GET /v1/health report these rows; a rebuild replaces the model's rows with its own findings.
CREATE TABLE IF NOT EXISTS projection_failures (
    application_name TEXT NOT NULL,
    model TEXT NOT NULL,
    position BIGINT NOT NULL,
    topic TEXT NOT NULL,
    error TEXT NOT NULL,
    recorded_at_us BIGINT NOT NULL,
    PRIMARY KEY (application_name, model, position)
);
