-- Stats by source (issue 19): plays and revenue per recording × hour × source × territory ×
-- currency, so the dashboard and `royalty stats --group source` can rank the platform's
-- sources (player, store, …) without reading usage rows. Folded by the stats read model
-- beside stats_minute; the fold starts again from position 0 to fill it for kept stores.
CREATE TABLE IF NOT EXISTS stats_source_hour (
    isrc text NOT NULL,
    hour_us bigint NOT NULL,
    source text NOT NULL,
    territory text NOT NULL,
    currency text NOT NULL,
    plays bigint NOT NULL,
    counted_plays bigint NOT NULL,
    units bigint NOT NULL,
    gross_micros bigint NOT NULL,
    PRIMARY KEY (isrc, hour_us, source, territory, currency)
);
-- Catalogue search: a label's releases, a person's credits by role.
CREATE INDEX IF NOT EXISTS cat_releases_label_idx ON cat_releases (label_key);
CREATE INDEX IF NOT EXISTS cat_credits_party_idx ON cat_credits (party_key, role);
CREATE INDEX IF NOT EXISTS cat_release_tracks_isrc_idx ON cat_release_tracks (isrc);
DELETE FROM stats_minute;
UPDATE projection_tracking SET position = 0 WHERE model = 'stats';
