-- Failed dashboard logins (issue 19): counted in the database, so the login rate limit holds
-- across server processes and workers (it was counted in each process's memory). A row holds a
-- SHA-256 of what was limited ("ip:…" or "user:…"), never the address or the name, and the time;
-- rows older than the window are deleted as new failures arrive, a key's rows at its next success.
CREATE TABLE IF NOT EXISTS login_failures (
    key_hash text NOT NULL,
    failed_at_us bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS login_failures_key_idx ON login_failures (key_hash, failed_at_us);
