-- Access certification campaigns (see campaign.rs). A campaign's population is snapshotted
-- at launch: one row per item with the context its reviewer sees, so later imports change
-- nothing of what is reviewed. Item ids are global, so that a decision names items alone.
CREATE TABLE campaigns (
    id {{id}},
    name TEXT NOT NULL,
    scope TEXT NOT NULL,
    reviewer_strategy TEXT NOT NULL,
    fallback TEXT,
    due_at BIGINT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    items BIGINT NOT NULL,
    population_hash TEXT NOT NULL,
    population TEXT NOT NULL,
    closed_at BIGINT,
    closed_by TEXT,
    undecided TEXT,
    -- What opened it when no person did: `recurring:NAME`, `mover:EMPLOYEE_ID`.
    origin TEXT,
    -- The secret of the reviewers' worksheets' integrity codes (hex): never printed.
    worksheet_key TEXT NOT NULL,
    -- Kept as decisions are recorded: counting millions of items on every read would not do.
    decided BIGINT NOT NULL DEFAULT 0,
    certified BIGINT NOT NULL DEFAULT 0,
    revoked BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE campaign_items (
    id {{id}},
    campaign_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    -- The access reviewed, hashed (see campaign.rs): what finds the same access in other
    -- campaigns, in an index an eighth the size of one over the three names.
    access_key BIGINT NOT NULL,
    system TEXT NOT NULL,
    account_id TEXT NOT NULL,
    entitlement TEXT NOT NULL,
    employee_id TEXT,
    holder TEXT NOT NULL,
    privileged BIGINT NOT NULL,
    last_used_at BIGINT,
    granted_at BIGINT,
    last_certified_at BIGINT,
    import_id BIGINT NOT NULL,
    line BIGINT NOT NULL,
    reviewer TEXT,
    reviewer_basis TEXT NOT NULL,
    open_findings BIGINT NOT NULL,
    sod_rules TEXT NOT NULL,
    peer_share_permille BIGINT,
    peers BIGINT NOT NULL,
    recommendation TEXT NOT NULL,
    recommendation_reason TEXT NOT NULL,
    decision TEXT,
    decided_by TEXT,
    decided_at BIGINT,
    decided_ms BIGINT,
    comment TEXT,
    delegated_by TEXT,
    revocation_task BIGINT,
    verified_absent_at BIGINT,
    gone_at BIGINT,
    escalated_at BIGINT,
    -- At close: the latest automatic import of this item's system had failed (why, when).
    source_failed TEXT
);
CREATE INDEX campaign_items_by_reviewer ON campaign_items (campaign_id, reviewer, id);
CREATE INDEX campaign_items_by_access ON campaign_items (access_key);

-- Certifications Annexa recorded (a closed campaign's certified items): the graph takes
-- the later of this and the source's own last-certified date.
CREATE TABLE certifications (
    system TEXT NOT NULL,
    account_id TEXT NOT NULL,
    entitlement TEXT NOT NULL,
    certified_at BIGINT NOT NULL,
    certified_by TEXT NOT NULL,
    campaign_id BIGINT NOT NULL,
    PRIMARY KEY (system, account_id, entitlement)
);

-- Reminders sent, so that each goes once: per campaign, reviewer and kind (`before-7`,
-- `overdue`).
CREATE TABLE campaign_notices (
    campaign_id BIGINT NOT NULL,
    reviewer TEXT NOT NULL,
    kind TEXT NOT NULL,
    sent_at BIGINT NOT NULL,
    channels TEXT NOT NULL,
    PRIMARY KEY (campaign_id, reviewer, kind)
);
