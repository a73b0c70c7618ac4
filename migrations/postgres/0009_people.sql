-- People who use the console: each belongs to an onboarded organisation, holds roles, and is identified by the
-- thumbprints of its personal certificates. Status is active, suspended or removed (a removed person stays, so
-- the records that name it keep their meaning; its id is not given out again).
CREATE TABLE people (
    oin TEXT NOT NULL REFERENCES organisations (oin),
    person_id TEXT NOT NULL,
    name TEXT NOT NULL,
    roles TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (oin, person_id)
);

-- A personal certificate: issued by the gateway's CA (issued, csr) or by the organisation's own CA (registered).
CREATE TABLE person_certificates (
    thumbprint TEXT PRIMARY KEY NOT NULL,
    oin TEXT NOT NULL,
    person_id TEXT NOT NULL,
    serial TEXT NOT NULL,
    not_after TEXT NOT NULL,
    source TEXT NOT NULL,
    added_at TEXT NOT NULL,
    FOREIGN KEY (oin, person_id) REFERENCES people (oin, person_id)
);
