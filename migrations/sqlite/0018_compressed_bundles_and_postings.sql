-- Bundles are written compressed (codec 1: one zstd frame of the packed encodings; codec 0: as packed, the bundles
-- written before this), and queries narrow the bundles they read by postings: one row per bundle and term it names
-- (subject, case, organisation, action, kind), the term as a 64-bit key (src/log/filter.rs). A posting says only
-- that a bundle may hold a match; the records decide. The per-record index rows and their terms go: the gateway
-- writes the postings of the bundles up to `unindexed` at its next start, before it serves.
ALTER TABLE log_bundles ADD COLUMN codec INTEGER NOT NULL DEFAULT 0;

CREATE TABLE log_postings (
    key BIGINT NOT NULL,
    bundle BIGINT NOT NULL,
    PRIMARY KEY (key, bundle)
) WITHOUT ROWID;

ALTER TABLE log_head ADD COLUMN unindexed BIGINT NOT NULL DEFAULT 0;
UPDATE log_head SET unindexed = (SELECT COALESCE(MAX(first_seq), 0) FROM log_bundles);

DROP TABLE log_index;
DROP TABLE log_terms;
