-- Findings stored compactly (see run.rs): a finding's evidence, message and label live once, in the body of
-- its version, and `findings.version` names the latest; the data step moves the evidence of
-- the findings stored before, then drops the column. Runs keep which checks could not judge.
ALTER TABLE findings ADD COLUMN version TEXT;
ALTER TABLE audit_runs ADD COLUMN not_evaluated TEXT NOT NULL DEFAULT '[]';
-- A run records what changed (see run.rs); what run N reported is each finding's latest
-- change up to N, found through this index.
DROP INDEX IF EXISTS run_findings_by_finding;
CREATE INDEX run_findings_history ON run_findings (finding_id, run_id);
