-- REST API tokens carry a role, may act for a person (a reviewer's items are theirs), and
-- expire. SCIM tokens have none of these.
ALTER TABLE api_tokens ADD COLUMN role TEXT;
ALTER TABLE api_tokens ADD COLUMN employee_id TEXT;
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;

-- Each authorization policy the server started with that differs from the one before
-- (by SHA-256); each such change is also a ledger entry.
CREATE TABLE authorization_policies (
    seq BIGINT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    file TEXT NOT NULL,
    loaded_at BIGINT NOT NULL,
    loaded_by TEXT NOT NULL
);
