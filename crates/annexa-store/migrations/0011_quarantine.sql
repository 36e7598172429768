-- A lenient import (`annexa import --lenient`) stores the good rows of a file and lists the
-- rows it refused in a quarantine report: how many, where the report was written, and its
-- SHA-256, so that an auditor can tell what the import left out and check the report.
ALTER TABLE imports ADD COLUMN refused BIGINT NOT NULL DEFAULT 0;
ALTER TABLE imports ADD COLUMN quarantine_file TEXT;
ALTER TABLE imports ADD COLUMN quarantine_sha256 TEXT;
