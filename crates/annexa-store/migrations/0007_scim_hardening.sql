-- The last failed attempt to import a source Annexa imports by itself (what an identity
-- provider pushed to the SCIM endpoint), one row per source: an operator sees it in
-- `annexa imports`, and the scheduler neither writes nor retries the same snapshot every
-- cycle. An import of that source removes the row. (The migration's code also removes any
-- password stored with a pushed User, and re-keys userName uniqueness.)
CREATE TABLE import_failures (
    kind TEXT NOT NULL,
    system TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    file TEXT NOT NULL,
    error TEXT NOT NULL,
    first_failed_at BIGINT NOT NULL,
    last_failed_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    PRIMARY KEY (kind, system)
);
