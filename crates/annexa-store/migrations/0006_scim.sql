-- API tokens for machine clients (an IdP pushing over SCIM). Only a SHA-256 of the secret
-- is kept: the secret is shown once, when the token is created.
CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    scope TEXT NOT NULL,
    system TEXT,
    secret_sha256 {{blob}} NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    revoked_at BIGINT,
    last_used_at BIGINT
);

-- Resources pushed to Annexa's SCIM server, one row per User or Group, kept as the JSON the
-- server answers with. `version` is the resource's ETag; `seq` orders every change of the
-- whole table so that each server instance can pull what changed since it last looked.
-- Deleted resources stay as tombstones (body '{}', unique_key NULL) so the pull sees them.
CREATE TABLE scim_resources (
    id TEXT PRIMARY KEY,
    system TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    unique_key TEXT,
    version BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    deleted BIGINT NOT NULL DEFAULT 0,
    body TEXT NOT NULL
);
CREATE UNIQUE INDEX scim_resources_unique ON scim_resources (system, resource_type, unique_key);
CREATE INDEX scim_resources_seq ON scim_resources (seq);

-- One row: the last `seq` given out. Taking the next one locks the row, so on PostgreSQL
-- writers commit in `seq` order and a reader never skips a change still in flight.
CREATE TABLE scim_sequence (one BIGINT PRIMARY KEY, seq BIGINT NOT NULL);
INSERT INTO scim_sequence (one, seq) VALUES (1, 0);
