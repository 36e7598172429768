-- The identity graph, its imports, and audit runs with their findings.
-- Portable SQL for SQLite and PostgreSQL: integers are BIGINT, booleans 0/1, instants Unix
-- seconds, dates ISO text, lists JSON text. {{id}} becomes each engine's auto-increment key.

CREATE TABLE imports (
    id {{id}},
    kind TEXT NOT NULL,
    systems TEXT NOT NULL,
    file TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    rows_read BIGINT NOT NULL,
    imported_at BIGINT NOT NULL
);

-- Each import's records in Annexa's compact snapshot encoding (see snapshot.rs): what an
-- audit reads, because decoding one blob is far faster than stepping through millions of
-- rows. The tables below are the queryable projection of the same records.
CREATE TABLE snapshots (
    import_id BIGINT PRIMARY KEY,
    format BIGINT NOT NULL,
    data {{blob}} NOT NULL
);

-- The current snapshot of each source: (kind, system) -> the import it came from.
CREATE TABLE sources (
    kind TEXT NOT NULL,
    system TEXT NOT NULL,
    import_id BIGINT NOT NULL,
    PRIMARY KEY (kind, system)
);

CREATE TABLE people (
    employee_id TEXT PRIMARY KEY,
    email TEXT,
    given_name TEXT NOT NULL,
    family_name TEXT NOT NULL,
    department TEXT NOT NULL,
    title TEXT NOT NULL,
    manager_id TEXT,
    location TEXT NOT NULL,
    worker_type TEXT NOT NULL,
    status TEXT NOT NULL,
    start_date TEXT,
    end_date TEXT,
    screening_date TEXT,
    import_id BIGINT NOT NULL,
    line BIGINT NOT NULL
);

CREATE TABLE accounts (
    system TEXT NOT NULL,
    account_id TEXT NOT NULL,
    source_kind TEXT NOT NULL,
    username TEXT NOT NULL,
    email TEXT,
    employee_id TEXT,
    display_name TEXT NOT NULL,
    status TEXT NOT NULL,
    kind TEXT NOT NULL,
    created_at BIGINT,
    last_login_at BIGINT,
    last_login_known BIGINT NOT NULL,
    mfa TEXT,
    password_last_set_at BIGINT,
    interactive BIGINT NOT NULL,
    root BIGINT NOT NULL,
    owner TEXT,
    credentials TEXT,
    import_id BIGINT NOT NULL,
    line BIGINT NOT NULL,
    PRIMARY KEY (system, account_id)
);

CREATE TABLE entitlements (
    system TEXT NOT NULL,
    name TEXT NOT NULL,
    source_kind TEXT NOT NULL,
    privileged BIGINT NOT NULL,
    owner TEXT,
    import_id BIGINT NOT NULL,
    line BIGINT NOT NULL,
    PRIMARY KEY (system, name)
);

-- No primary key and no index: importers reject duplicates, and every index would slow
-- loads of millions of rows; replacing a source's rows scans the table instead.
CREATE TABLE assignments (
    system TEXT NOT NULL,
    account_id TEXT NOT NULL,
    entitlement TEXT NOT NULL,
    source_kind TEXT NOT NULL,
    granted_at BIGINT,
    granted_by TEXT,
    grant_source TEXT NOT NULL,
    last_certified_at BIGINT,
    last_certified_by TEXT,
    import_id BIGINT NOT NULL,
    line BIGINT NOT NULL
);

CREATE TABLE badges (
    system TEXT NOT NULL,
    badge_id TEXT NOT NULL,
    source_kind TEXT NOT NULL,
    employee_id TEXT,
    status TEXT NOT NULL,
    last_used_at BIGINT,
    zones TEXT NOT NULL,
    import_id BIGINT NOT NULL,
    line BIGINT NOT NULL,
    PRIMARY KEY (system, badge_id)
);

CREATE TABLE audit_runs (
    id {{id}},
    started_at BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    as_of BIGINT NOT NULL,
    checks TEXT NOT NULL,
    imports TEXT NOT NULL,
    parameters TEXT NOT NULL,
    total BIGINT NOT NULL,
    new_count BIGINT NOT NULL,
    still_open_count BIGINT NOT NULL,
    resolved_count BIGINT NOT NULL
);

-- One row per finding id (check + subject): its latest state.
CREATE TABLE findings (
    id TEXT PRIMARY KEY,
    check_id TEXT NOT NULL,
    severity TEXT NOT NULL,
    subject_kind TEXT NOT NULL,
    subject_key TEXT NOT NULL,
    subject_label TEXT NOT NULL,
    controls TEXT NOT NULL,
    message TEXT NOT NULL,
    evidence TEXT NOT NULL,
    status TEXT NOT NULL,
    first_run BIGINT NOT NULL,
    last_run BIGINT NOT NULL,
    resolved_run BIGINT
);
CREATE INDEX findings_by_check ON findings (check_id, status);

-- What each run saw: new, still open, or resolved.
CREATE TABLE run_findings (
    run_id BIGINT NOT NULL,
    finding_id TEXT NOT NULL,
    change TEXT NOT NULL,
    PRIMARY KEY (run_id, finding_id)
);
