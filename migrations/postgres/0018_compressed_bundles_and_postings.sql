-- Bundles are written compressed (codec 1: one zstd frame of the packed encodings; codec 0: as packed, the bundles
-- written before this), and queries narrow the bundles they read by postings: the terms a bundle names (subject,
-- case, organisation, action, kind), each as a 64-bit key (src/log/filter.rs). A posting says only that a bundle
-- may hold a match; the records decide. On PostgreSQL a bundle's keys are one array under a GIN index (its
-- posting lists are compressed; a row per key and bundle would cost a heap tuple and an index entry each). The
-- per-record index rows and their terms go: the gateway writes the postings of the bundles up to `unindexed` at
-- its next start, before it serves.
ALTER TABLE log_bundles ADD COLUMN codec SMALLINT NOT NULL DEFAULT 0;
-- Compressed already: stored out of line when large, never compressed again.
ALTER TABLE log_bundles ALTER COLUMN data SET STORAGE EXTERNAL;

CREATE TABLE log_postings (
    bundle BIGINT PRIMARY KEY NOT NULL,
    keys BIGINT[] NOT NULL
);
-- Without a pending list: every append updates the index itself, so no append pays for merging a long list.
CREATE INDEX log_postings_keys ON log_postings USING gin (keys) WITH (fastupdate = off);

ALTER TABLE log_head ADD COLUMN unindexed BIGINT NOT NULL DEFAULT 0;
UPDATE log_head SET unindexed = (SELECT COALESCE(MAX(first_seq), 0) FROM log_bundles);

DROP TABLE log_index;
DROP TABLE log_terms;
