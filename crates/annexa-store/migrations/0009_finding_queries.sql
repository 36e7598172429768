-- Findings are filtered, sorted and paged in SQL: a severity rank to sort by (most severe
-- first), the subject's system to filter by, and an index in listing order.
ALTER TABLE findings ADD COLUMN severity_rank BIGINT NOT NULL DEFAULT 0;
ALTER TABLE findings ADD COLUMN system TEXT NOT NULL DEFAULT '';
UPDATE findings SET severity_rank = CASE severity WHEN 'critical' THEN 4 WHEN 'high' THEN 3
    WHEN 'medium' THEN 2 WHEN 'low' THEN 1 ELSE 0 END;
CREATE INDEX findings_listing ON findings (status, severity_rank DESC, check_id, subject_key, id);

-- Each run's version of every finding it reported, so that any past run's report can be
-- rebuilt exactly: a version is stored once (by the SHA-256 of its JSON) and every run that
-- reported the finding that way points at it. Runs before this version point at none.
CREATE TABLE finding_versions (
    finding_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    check_id TEXT NOT NULL,
    severity_rank BIGINT NOT NULL,
    system TEXT NOT NULL,
    subject_key TEXT NOT NULL,
    controls TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (finding_id, sha256)
);
ALTER TABLE run_findings ADD COLUMN version TEXT;
