-- Information requests: a member of a case asks addressee organisations (members too) for categories, for a
-- purpose of a meeting with the case on its agenda, by a due date. Each addressee answers or declines once.
CREATE TABLE requests (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases (id),
    meeting_id TEXT NOT NULL REFERENCES meetings (id),
    purpose TEXT NOT NULL,
    categories TEXT NOT NULL,
    requester_oin TEXT NOT NULL REFERENCES organisations (oin),
    requester_sub TEXT NOT NULL,
    due TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX requests_case ON requests (case_id);

CREATE TABLE request_addressees (
    request_id TEXT NOT NULL REFERENCES requests (id),
    oin TEXT NOT NULL REFERENCES organisations (oin),
    status TEXT NOT NULL,
    reason TEXT,
    changed_at TEXT,
    PRIMARY KEY (request_id, oin)
);
CREATE INDEX request_addressees_oin ON request_addressees (oin, request_id);

-- Items of content: a response item (request_id set) or a meeting share (request_id NULL). The content is sealed
-- under the case's data key, bound to case and item id; `digest` is the SHA-256 of the plain content, which the
-- disclosure records carry. A purge sets `sealed` to NULL.
CREATE TABLE items (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases (id),
    request_id TEXT REFERENCES requests (id),
    meeting_id TEXT NOT NULL REFERENCES meetings (id),
    purpose TEXT NOT NULL,
    source_oin TEXT NOT NULL REFERENCES organisations (oin),
    source_sub TEXT NOT NULL,
    category TEXT NOT NULL,
    position BIGINT NOT NULL,
    digest TEXT NOT NULL,
    sealed BYTEA,
    created_at TEXT NOT NULL
);
CREATE INDEX items_request ON items (request_id, source_oin);
CREATE INDEX items_meeting ON items (meeting_id, case_id);
CREATE INDEX items_case ON items (case_id);

ALTER TABLE cases ADD COLUMN purged_at TEXT;
