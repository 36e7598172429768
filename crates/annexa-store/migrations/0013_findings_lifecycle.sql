-- The findings lifecycle (see lifecycle.rs). `findings.status` stays what the audits see
-- (open, or resolved: remediated); what people decided about an open finding lives beside
-- it, one row per finding anyone has acted on: acknowledged (owner, due date), accepted as
-- a risk (approver, reason, expiry), dismissed as a false positive (with the fingerprint of
-- the records it rests on: other records reopen it), or reopened. Most findings never get
-- a row.
CREATE TABLE finding_workflow (
    finding_id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    owner TEXT,
    due_at BIGINT,
    approver TEXT,
    reason TEXT,
    expires_at BIGINT,
    rests_on TEXT,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE INDEX finding_workflow_by_state ON finding_workflow (state);

CREATE TABLE finding_comments (
    id {{id}},
    finding_id TEXT NOT NULL,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX finding_comments_by_finding ON finding_comments (finding_id, id);

-- The run that saw a remediated finding again: its due date counts from then, and the run
-- marks it reopened. Almost always empty, so the index holds only the rows that have one.
ALTER TABLE findings ADD COLUMN reopened_run BIGINT;
CREATE INDEX findings_reopened ON findings (reopened_run) WHERE reopened_run IS NOT NULL;
