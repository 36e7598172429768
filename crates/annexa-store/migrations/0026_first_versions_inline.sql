-- A new finding's first version may be kept in its own row (run.rs, `append_rows`): its
-- packed body here, and no `finding_versions` or `run_findings` row until a later run
-- changes it. NULL for every finding stored in full.
ALTER TABLE findings ADD COLUMN packed {{blob}};
