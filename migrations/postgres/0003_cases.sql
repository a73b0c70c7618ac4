-- Cases: the subject only as its keyed pseudonym (for lookups) and sealed (AES-256-GCM under the case's data
-- key, itself wrapped by the master key); the summary sealed the same way. Never a plain BSN.
CREATE TABLE cases (
    id TEXT PRIMARY KEY NOT NULL,
    reported_at TEXT NOT NULL,
    reporter_oin TEXT NOT NULL REFERENCES organisations (oin),
    holder_oin TEXT NOT NULL REFERENCES organisations (oin),
    subject TEXT NOT NULL,
    status TEXT NOT NULL,
    closed_at TEXT,
    master_key_id TEXT,
    data_key BYTEA,
    sealed_subject BYTEA,
    sealed_summary BYTEA
);
CREATE INDEX cases_subject ON cases (subject);

-- Organisations that may see a case. A withdrawal deletes the row; the disclosure log keeps the history.
CREATE TABLE case_members (
    case_id TEXT NOT NULL REFERENCES cases (id),
    oin TEXT NOT NULL REFERENCES organisations (oin),
    since TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (case_id, oin)
);
CREATE INDEX case_members_oin ON case_members (oin, case_id);
