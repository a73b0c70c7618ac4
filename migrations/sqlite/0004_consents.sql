-- The client's recorded consent for a case: which categories may go to which organisations, until when, and who
-- recorded it. Consent is what lets a covenant partner's sharing of a consent-bound category through.
CREATE TABLE consents (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases (id),
    categories TEXT NOT NULL,
    organisations TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    recorded_by_oin TEXT NOT NULL,
    recorded_by_sub TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX consents_case ON consents (case_id, valid_until);
