-- The ZVH's process: reports (meldingen), the subjects of a case, weighing at the briefing, monitoring after a
-- plan, and the free text users type, sealed with the case instead of written into the disclosure log.

-- Each report about a case's subjects; the first made the case, later ones joined it. The summary and the
-- subjects as given are sealed under the case's data key. `weighed_at` is set by the weighing that took it up.
CREATE TABLE reports (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases (id),
    reported_at TEXT NOT NULL,
    reporter_oin TEXT NOT NULL REFERENCES organisations (oin),
    reporter_sub TEXT NOT NULL,
    kind TEXT NOT NULL,
    municipality TEXT,
    gender TEXT NOT NULL,
    age_band TEXT NOT NULL,
    joined INTEGER NOT NULL,
    sealed_summary BLOB,
    summary_digest TEXT NOT NULL,
    sealed_subjects BLOB,
    weighed_at TEXT
);
CREATE INDEX reports_case ON reports (case_id);
CREATE INDEX reports_unweighed ON reports (weighed_at, reported_at);
-- Figures count a period's reports, weighings, meetings and closings.
CREATE INDEX reports_reported_at ON reports (reported_at);
CREATE INDEX meetings_starts_at ON meetings (starts_at);
CREATE INDEX cases_closed_at ON cases (closed_at);
INSERT INTO reports (id, case_id, reported_at, reporter_oin, reporter_sub, kind, gender, age_band, joined,
                     sealed_summary, summary_digest)
    SELECT 'report-' || substr(id, 6), id, reported_at, reporter_oin, '', 'persoon', 'onbekend', 'onbekend', 0,
           sealed_summary, '' FROM cases;

-- The subjects (keyed pseudonyms) of a case since the report that named them, and the one open case of each
-- subject. A case's records carry its first subject; a privacy officer's search for another finds them here.
CREATE TABLE case_subjects (
    case_id TEXT NOT NULL REFERENCES cases (id),
    subject TEXT NOT NULL,
    since TEXT NOT NULL,
    PRIMARY KEY (case_id, subject)
);
CREATE INDEX case_subjects_subject ON case_subjects (subject);
INSERT INTO case_subjects (case_id, subject, since) SELECT id, subject, reported_at FROM cases;
CREATE TABLE open_subjects (
    subject TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases (id)
);
INSERT INTO open_subjects (subject, case_id)
    SELECT subject, MIN(id) FROM cases WHERE status = 'open' GROUP BY subject;

-- Weighing decisions, in a briefing that had the case on its agenda.
CREATE TABLE weighings (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases (id),
    meeting_id TEXT NOT NULL REFERENCES meetings (id),
    outcome TEXT NOT NULL,
    reason TEXT,
    decided_at TEXT NOT NULL,
    decided_by_oin TEXT NOT NULL REFERENCES organisations (oin),
    decided_by_sub TEXT NOT NULL
);
CREATE INDEX weighings_case ON weighings (case_id, decided_at);
CREATE INDEX weighings_decided_at ON weighings (decided_at);

-- A plan made in a focus meeting: its meeting, the case's monitoring track, and the checks it scheduled.
CREATE TABLE case_plans (
    case_id TEXT PRIMARY KEY NOT NULL REFERENCES cases (id),
    plan_meeting_id TEXT NOT NULL REFERENCES meetings (id),
    monitoring_meeting_id TEXT NOT NULL REFERENCES meetings (id),
    planned_at TEXT NOT NULL
);
CREATE TABLE monitoring_checks (
    case_id TEXT NOT NULL REFERENCES cases (id),
    moment TEXT NOT NULL,
    due_at TEXT NOT NULL,
    recorded_at TEXT,
    status TEXT,
    recorded_by_oin TEXT,
    recorded_by_sub TEXT,
    note_id TEXT,
    PRIMARY KEY (case_id, moment)
);
CREATE INDEX monitoring_checks_due ON monitoring_checks (recorded_at, due_at);

-- Free text users type about a case (reasons, notes), sealed under the case's data key; the disclosure log holds
-- only its id and digest. A purge destroys it with the case.
CREATE TABLE case_texts (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases (id),
    field TEXT NOT NULL,
    digest TEXT NOT NULL,
    sealed BLOB,
    created_at TEXT NOT NULL
);
CREATE INDEX case_texts_case ON case_texts (case_id);

-- A notification may name a covenant id (a weighing outcome); never content.
ALTER TABLE notifications ADD COLUMN detail TEXT;

-- Why a meeting was closed, kept with it (the disclosure log holds only its digest).
ALTER TABLE meetings ADD COLUMN close_reason TEXT;
