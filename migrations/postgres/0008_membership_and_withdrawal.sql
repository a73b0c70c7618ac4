-- An organisation that left and signs again starts a new membership period at member_since (NULL: since it was
-- first onboarded). The signatures of an ended period move to former_signatures: they no longer count.
ALTER TABLE organisations ADD COLUMN member_since TEXT;

CREATE TABLE former_signatures (
    oin TEXT NOT NULL REFERENCES organisations (oin),
    version TEXT NOT NULL,
    signed_on TEXT NOT NULL,
    signatory TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    ended_at TEXT NOT NULL
);

-- The client may withdraw consent (GDPR art. 7(3)): from withdrawn_at on it lets nothing through.
ALTER TABLE consents ADD COLUMN withdrawn_at TEXT;
ALTER TABLE consents ADD COLUMN withdrawn_by_oin TEXT;
ALTER TABLE consents ADD COLUMN withdrawn_by_sub TEXT;
