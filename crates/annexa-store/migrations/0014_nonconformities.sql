-- Nonconformities and their corrective actions (ISO/IEC 27001 clause 10.2; see
-- nonconformity.rs): findings of one control grouped, or a manual audit observation, with
-- a root cause, actions, and an effectiveness check before it closes.
CREATE TABLE nonconformities (
    id {{id}},
    title TEXT NOT NULL,
    control TEXT,
    description TEXT NOT NULL,
    root_cause TEXT,
    status TEXT NOT NULL,
    opened_at BIGINT NOT NULL,
    opened_by TEXT NOT NULL,
    closed_at BIGINT,
    closed_by TEXT,
    closed_run BIGINT,
    effectiveness TEXT
);

CREATE TABLE nc_findings (
    nc_id BIGINT NOT NULL,
    finding_id TEXT NOT NULL,
    PRIMARY KEY (nc_id, finding_id)
);
CREATE INDEX nc_findings_by_finding ON nc_findings (finding_id);

CREATE TABLE nc_actions (
    nc_id BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    description TEXT NOT NULL,
    owner TEXT NOT NULL,
    due_at BIGINT NOT NULL,
    status TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (nc_id, seq)
);
