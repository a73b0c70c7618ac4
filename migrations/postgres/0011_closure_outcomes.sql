-- What closing a case recorded it achieved: outcomes from the covenant's closure outcomes.
CREATE TABLE case_closure_outcomes (
    case_id TEXT NOT NULL REFERENCES cases (id),
    outcome TEXT NOT NULL,
    PRIMARY KEY (case_id, outcome)
);
