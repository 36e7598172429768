-- The risk register (see risk.rs) and its Monte Carlo results, and the authentication
-- posture each audit run measured (what risks are tied to, and what the reports follow
-- over time).
ALTER TABLE audit_runs ADD COLUMN posture TEXT;

CREATE TABLE risks (
    id {{id}},
    -- The built-in library risk it came from (`former-staff-access`), if any.
    library_key TEXT UNIQUE,
    title TEXT NOT NULL,
    asset TEXT NOT NULL,
    threat TEXT NOT NULL,
    vulnerability TEXT NOT NULL,
    owner TEXT NOT NULL,
    inherent_likelihood BIGINT NOT NULL,
    inherent_impact BIGINT NOT NULL,
    residual_likelihood BIGINT NOT NULL,
    residual_impact BIGINT NOT NULL,
    treatment TEXT NOT NULL,
    plan TEXT,
    -- Space-separated 2022 control ids and check ids.
    controls TEXT NOT NULL,
    checks TEXT NOT NULL,
    review_due BIGINT,
    -- JSON: frequency and loss ranges, driver, shape (floats do not fit the dialect layer's
    -- integer and text values, and are only ever read whole).
    quantification TEXT,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL
);

CREATE TABLE risk_simulations (
    id {{id}},
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    -- As text: a seed is any 64-bit unsigned number.
    seed TEXT NOT NULL,
    iterations BIGINT NOT NULL,
    generator TEXT NOT NULL,
    inputs_sha256 TEXT NOT NULL,
    inputs TEXT NOT NULL,
    outcome TEXT NOT NULL
);
