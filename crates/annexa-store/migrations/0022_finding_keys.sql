-- The keys of the findings' tables become unique indexes of their own instead of primary
-- keys: the same constraint, but one that a first audit can drop and build again, sorted,
-- once its rows are written (see `defer_indexes` in run.rs). A finding id is a hash, so
-- while the key exists each new row goes to a random place in it; a first audit at
-- 1,000,000 people inserts 2.5 million rows into each of three such keys, far larger than
-- the page cache. The tables are rebuilt with the same columns and rows.
CREATE TABLE findings_keyed (
    id TEXT NOT NULL,
    check_id TEXT NOT NULL,
    subject_kind TEXT NOT NULL,
    subject_key TEXT NOT NULL,
    controls TEXT NOT NULL,
    status TEXT NOT NULL,
    first_run BIGINT NOT NULL,
    last_run BIGINT NOT NULL,
    resolved_run BIGINT,
    severity_rank BIGINT NOT NULL DEFAULT 0,
    system TEXT NOT NULL DEFAULT '',
    version TEXT,
    reopened_run BIGINT
);
INSERT INTO findings_keyed (id, check_id, subject_kind, subject_key, controls, status, first_run, last_run, resolved_run,
    severity_rank, system, version, reopened_run)
SELECT id, check_id, subject_kind, subject_key, controls, status, first_run, last_run, resolved_run,
    severity_rank, system, version, reopened_run FROM findings;
DROP TABLE findings;
ALTER TABLE findings_keyed RENAME TO findings;
CREATE UNIQUE INDEX findings_id ON findings (id);
CREATE INDEX findings_by_check ON findings (check_id, status);
CREATE INDEX findings_listing ON findings (status, severity_rank DESC, check_id, subject_key, id);
CREATE INDEX findings_reopened ON findings (reopened_run) WHERE reopened_run IS NOT NULL;

CREATE TABLE finding_versions_keyed (
    finding_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    check_id TEXT NOT NULL,
    severity_rank BIGINT NOT NULL,
    system TEXT NOT NULL,
    subject_key TEXT NOT NULL,
    controls TEXT NOT NULL,
    packed {{blob}}
);
INSERT INTO finding_versions_keyed (finding_id, sha256, check_id, severity_rank, system, subject_key, controls, packed)
SELECT finding_id, sha256, check_id, severity_rank, system, subject_key, controls, packed FROM finding_versions;
DROP TABLE finding_versions;
ALTER TABLE finding_versions_keyed RENAME TO finding_versions;
CREATE UNIQUE INDEX finding_versions_key ON finding_versions (finding_id, sha256);

CREATE TABLE run_findings_keyed (
    run_id BIGINT NOT NULL,
    finding_id TEXT NOT NULL,
    change TEXT NOT NULL,
    version TEXT
);
INSERT INTO run_findings_keyed (run_id, finding_id, change, version) SELECT run_id, finding_id, change, version FROM run_findings;
DROP TABLE run_findings;
ALTER TABLE run_findings_keyed RENAME TO run_findings;
CREATE UNIQUE INDEX run_findings_key ON run_findings (run_id, finding_id);
CREATE INDEX run_findings_history ON run_findings (finding_id, run_id);
