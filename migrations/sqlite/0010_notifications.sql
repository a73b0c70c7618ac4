-- What an organisation is told without an id passed on by phone: asked for information, made a member of a case,
-- added to a meeting. Written in the transaction of the change it tells of; ids only, no personal data.
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    oin TEXT NOT NULL REFERENCES organisations (oin),
    kind TEXT NOT NULL,
    case_id TEXT,
    meeting_id TEXT,
    request_id TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX notifications_by_oin ON notifications (oin, id);
