-- Records are stored as entry bundles (src/log/bundle.rs): up to 64 consecutive encodings per row, with the chain
-- hash before the first, plus one narrow index row per record holding only what queries select on, its texts as
-- ids of `log_terms`. The rows of `log_records` are moved into bundles at start (their chain checked on the way),
-- before the gateway serves; the table stays, empty, for that move.
CREATE TABLE log_bundles (
    first_seq INTEGER PRIMARY KEY NOT NULL,
    last_seq BIGINT NOT NULL,
    at TEXT NOT NULL,
    prev BLOB NOT NULL,
    data BLOB NOT NULL
);
CREATE INDEX log_bundles_at ON log_bundles (at);

CREATE TABLE log_terms (
    id INTEGER PRIMARY KEY NOT NULL,
    term TEXT NOT NULL UNIQUE
);

-- kind: 1 disclosure, 2 refusal, 3 lookup, 4 admin; allowed: 1 when the decision is allow.
CREATE TABLE log_index (
    seq INTEGER PRIMARY KEY NOT NULL,
    bundle BIGINT NOT NULL,
    kind INTEGER NOT NULL,
    allowed INTEGER NOT NULL,
    subject BIGINT,
    case_id BIGINT,
    source_oin BIGINT,
    recipient_oin BIGINT,
    action BIGINT
);
CREATE INDEX log_index_subject ON log_index (subject, seq);
CREATE INDEX log_index_case ON log_index (case_id, seq);
CREATE INDEX log_index_source ON log_index (source_oin, seq);
CREATE INDEX log_index_recipient ON log_index (recipient_oin, seq);
CREATE INDEX log_index_kind ON log_index (kind, seq);

DROP INDEX log_records_subject;
DROP INDEX log_records_case;
DROP INDEX log_records_source;
DROP INDEX log_records_recipient;
DROP INDEX log_records_kind;
DROP INDEX log_records_at;
