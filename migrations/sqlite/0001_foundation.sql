-- Onboarded organisations, their token keys, covenant signatures, issued and revoked certificates,
-- and the record of administrative actions. Times are RFC 3339 UTC text (sortable).
CREATE TABLE organisations (
    oin TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    roles TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE token_keys (
    oin TEXT NOT NULL REFERENCES organisations (oin),
    kid TEXT NOT NULL,
    alg TEXT NOT NULL,
    jwk TEXT NOT NULL,
    added_at TEXT NOT NULL,
    retired_at TEXT,
    PRIMARY KEY (oin, kid)
);

CREATE TABLE covenant_signatures (
    oin TEXT NOT NULL REFERENCES organisations (oin),
    version TEXT NOT NULL,
    signed_on TEXT NOT NULL,
    signatory TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (oin, version)
);

CREATE TABLE certificates (
    serial TEXT PRIMARY KEY NOT NULL,
    oin TEXT NOT NULL,
    thumbprint TEXT NOT NULL,
    not_after TEXT NOT NULL,
    issued_at TEXT NOT NULL
);

CREATE TABLE revocations (
    serial TEXT PRIMARY KEY NOT NULL,
    revoked_at TEXT NOT NULL,
    reason TEXT NOT NULL
);

CREATE TABLE admin_actions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor_oin TEXT,
    actor_sub TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL
);

-- Bumped in the same transaction as every change above, so that running servers notice changes made by
-- another process (the command line, a second instance) with one cheap read.
CREATE TABLE registry_generation (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    generation BIGINT NOT NULL
);
INSERT INTO registry_generation (id, generation) VALUES (1, 0);
