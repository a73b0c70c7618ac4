-- Meetings of a covenant meeting type: a time window, an agenda of cases and the attending organisations. An
-- incidental attendee's confidentiality declaration (who signed, when) is kept with its attendance. Sharing
-- happens only while a meeting is open and inside its window.
CREATE TABLE meetings (
    id TEXT PRIMARY KEY NOT NULL,
    meeting_type TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    status TEXT NOT NULL,
    created_by_oin TEXT NOT NULL REFERENCES organisations (oin),
    created_at TEXT NOT NULL,
    closed_at TEXT
);

CREATE TABLE meeting_agenda (
    meeting_id TEXT NOT NULL REFERENCES meetings (id),
    case_id TEXT NOT NULL REFERENCES cases (id),
    added_at TEXT NOT NULL,
    PRIMARY KEY (meeting_id, case_id)
);
CREATE INDEX meeting_agenda_case ON meeting_agenda (case_id);

CREATE TABLE meeting_attendees (
    meeting_id TEXT NOT NULL REFERENCES meetings (id),
    oin TEXT NOT NULL REFERENCES organisations (oin),
    added_at TEXT NOT NULL,
    declaration_signed_by TEXT,
    declaration_signed_at TEXT,
    PRIMARY KEY (meeting_id, oin)
);
