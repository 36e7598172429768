-- The Statement of Applicability (see soa.rs): what people recorded per Annex A control or
-- clause, and each approved version as it was approved.
CREATE TABLE soa_entries (
    control TEXT PRIMARY KEY,
    -- 1 applicable, 0 excluded, NULL undecided.
    applicable BIGINT,
    -- Space-separated inclusion reasons.
    reasons TEXT NOT NULL,
    justification TEXT,
    status TEXT,
    implementation TEXT,
    owner TEXT,
    -- JSON array of document references.
    documents TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL
);

CREATE TABLE soa_versions (
    version BIGINT PRIMARY KEY,
    approved_at BIGINT NOT NULL,
    approver TEXT NOT NULL,
    note TEXT,
    -- The rows as approved (JSON), and their SHA-256, which the ledger entry holds.
    rows TEXT NOT NULL,
    sha256 TEXT NOT NULL
);
