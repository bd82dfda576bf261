-- Read models (issue 5): the projector's tracking table and the view tables it folds into.
-- Views are derived data: `royalty project rebuild` clones a table's definition from here,
-- refills it from position 0 and swaps it in. Money is integer micro-units; times are UTC
-- epoch microseconds.

-- One row per read model: the log position its view rows include, committed in the same
-- transaction as those rows.
CREATE TABLE IF NOT EXISTS projection_tracking (
    application_name TEXT NOT NULL,
    model TEXT NOT NULL,
    position BIGINT NOT NULL,
    updated_at_us BIGINT NOT NULL,
    PRIMARY KEY (application_name, model)
);

CREATE TABLE IF NOT EXISTS cat_parties (
    party_key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kinds TEXT NOT NULL,
    identifiers TEXT NOT NULL,
    verification TEXT NOT NULL,
    managed_by TEXT NOT NULL,
    position BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS cat_works (
    work_key TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    iswc TEXT,
    writers TEXT NOT NULL,
    position BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS cat_recordings (
    isrc TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    display_artist TEXT NOT NULL,
    duration_ms BIGINT NOT NULL,
    work_key TEXT,
    audio_status TEXT NOT NULL,
    availability TEXT NOT NULL,
    position BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS cat_credits (
    isrc TEXT NOT NULL,
    party_key TEXT NOT NULL,
    role TEXT NOT NULL,
    PRIMARY KEY (isrc, party_key, role)
);

CREATE TABLE IF NOT EXISTS cat_releases (
    upc TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    label_key TEXT,
    release_type TEXT NOT NULL,
    release_date TEXT NOT NULL,
    status TEXT NOT NULL,
    delivered_by TEXT,
    territories TEXT NOT NULL,
    availability TEXT NOT NULL,
    position BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS cat_release_tracks (
    upc TEXT NOT NULL,
    track_no BIGINT NOT NULL,
    isrc TEXT NOT NULL,
    PRIMARY KEY (upc, track_no)
);

CREATE TABLE IF NOT EXISTS cat_split_versions (
    right_type TEXT NOT NULL,
    subject_key TEXT NOT NULL,
    version BIGINT NOT NULL,
    status TEXT NOT NULL,
    kind TEXT NOT NULL,
    effective_from_us BIGINT NOT NULL,
    activation_seq BIGINT,
    shares TEXT NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (right_type, subject_key, version)
);

CREATE TABLE IF NOT EXISTS cat_split_holders (
    right_type TEXT NOT NULL,
    subject_key TEXT NOT NULL,
    party_key TEXT NOT NULL,
    PRIMARY KEY (party_key, right_type, subject_key)
);

-- Per-minute stats: minute_us is the start of the UTC minute the plays occurred in.
CREATE TABLE IF NOT EXISTS stats_minute (
    isrc TEXT NOT NULL,
    minute_us BIGINT NOT NULL,
    territory TEXT NOT NULL,
    currency TEXT NOT NULL,
    plays BIGINT NOT NULL,
    counted_plays BIGINT NOT NULL,
    units BIGINT NOT NULL,
    gross_micros BIGINT NOT NULL,
    PRIMARY KEY (isrc, minute_us, territory, currency)
);

-- Earnings: gross per allocation-relevant cell and day, and what each account earned from it.
CREATE TABLE IF NOT EXISTS earn_gross_day (
    isrc TEXT NOT NULL,
    currency TEXT NOT NULL,
    kind TEXT NOT NULL,
    territory TEXT NOT NULL,
    pricing_model TEXT NOT NULL,
    day_us BIGINT NOT NULL,
    units BIGINT NOT NULL,
    gross_micros BIGINT NOT NULL,
    PRIMARY KEY (isrc, currency, kind, territory, pricing_model, day_us)
);

CREATE TABLE IF NOT EXISTS earn_account_day (
    account TEXT NOT NULL,
    currency TEXT NOT NULL,
    isrc TEXT NOT NULL,
    day_us BIGINT NOT NULL,
    kind TEXT NOT NULL,
    territory TEXT NOT NULL,
    amount_micros BIGINT NOT NULL,
    PRIMARY KEY (isrc, day_us, account, currency, kind, territory)
);
CREATE INDEX IF NOT EXISTS earn_account_day_account_idx ON earn_account_day (account, currency, day_us);
