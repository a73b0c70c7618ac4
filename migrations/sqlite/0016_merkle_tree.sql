-- The Merkle tree over the log (RFC 6962): tiles of hashes (see src/log/tiles.rs), the number of records the
-- tiles cover, signed checkpoints (each also a record of the log) and the witnesses' cosignatures. An existing
-- log's tree is built at start, before the gateway serves; its hash chain stays as it was and is still verified.
CREATE TABLE log_tiles (
    level INTEGER NOT NULL,
    idx BIGINT NOT NULL,
    hashes BLOB NOT NULL,
    PRIMARY KEY (level, idx)
);
ALTER TABLE log_head ADD COLUMN tree_size BIGINT NOT NULL DEFAULT 0;

-- A checkpoint over the first `size` records, as a signed note; record `seq` holds the same note.
CREATE TABLE log_notes (
    size BIGINT PRIMARY KEY NOT NULL,
    seq BIGINT NOT NULL,
    at TEXT NOT NULL,
    note TEXT NOT NULL
);

-- Witnesses: the Ed25519 key an organisation cosigns with (pinned at its first cosignature), and what it cosigned.
CREATE TABLE log_witnesses (
    oin TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    public_key TEXT NOT NULL,
    since TEXT NOT NULL
);
CREATE TABLE log_cosignatures (
    size BIGINT NOT NULL,
    oin TEXT NOT NULL,
    line TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (size, oin)
);
