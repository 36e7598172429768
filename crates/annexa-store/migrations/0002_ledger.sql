-- The evidence ledger: every change of state as a canonical JSON entry, the RFC 9162
-- Merkle tree over them (complete-subtree hashes by level), and signed checkpoints.
-- Entries are appended in the same transaction as the change they record.

CREATE TABLE ledger_entries (
    seq BIGINT PRIMARY KEY,
    recorded_at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    -- The canonical JSON of the whole entry: what the leaf hash covers.
    body TEXT NOT NULL,
    leaf_hash {{blob}} NOT NULL
);

CREATE TABLE ledger_nodes (
    level BIGINT NOT NULL,
    idx BIGINT NOT NULL,
    hash {{blob}} NOT NULL,
    PRIMARY KEY (level, idx)
);

-- Signed checkpoints (C2SP signed note of a tlog-checkpoint), one per tree size.
CREATE TABLE ledger_checkpoints (
    size BIGINT PRIMARY KEY,
    note TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
