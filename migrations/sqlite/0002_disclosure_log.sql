-- The disclosure log: one hash chain of records (docs/log-encoding.md), its head, and signed checkpoints.
-- Administrative actions are chain records from now on; the development-only admin_actions table goes.
CREATE TABLE log_records (
    seq BIGINT PRIMARY KEY NOT NULL,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    source_oin TEXT,
    recipient_oin TEXT,
    actor_oin TEXT,
    actor_sub TEXT,
    case_id TEXT,
    subject TEXT,
    meeting_id TEXT,
    meeting_type TEXT,
    purpose TEXT,
    categories TEXT NOT NULL,
    covenant_version TEXT,
    article TEXT,
    request_id TEXT,
    content_digest TEXT,
    decision TEXT NOT NULL,
    reason TEXT,
    action TEXT,
    target TEXT,
    detail TEXT,
    trace_id TEXT,
    span_id TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX log_records_subject ON log_records (subject, seq);
CREATE INDEX log_records_case ON log_records (case_id, seq);
CREATE INDEX log_records_source ON log_records (source_oin, seq);
CREATE INDEX log_records_recipient ON log_records (recipient_oin, seq);
CREATE INDEX log_records_kind ON log_records (kind, seq);
CREATE INDEX log_records_at ON log_records (at);

-- The chain head. Every append locks this row first: that serialises appenders within one database, across
-- processes and gateway instances.
CREATE TABLE log_head (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL,
    locked_at TEXT
);
INSERT INTO log_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE log_checkpoints (
    seq BIGINT PRIMARY KEY NOT NULL,
    at TEXT NOT NULL,
    head_hash TEXT NOT NULL,
    public_key TEXT NOT NULL,
    signature TEXT NOT NULL
);

DROP TABLE admin_actions;
