-- People who sign in to the server with a password (Argon2id; the PHC string holds its
-- parameters and salt), and their sessions. Only the SHA-256 of a session id or of a
-- setup link's token is kept: whoever reads the database cannot sign in with them.
CREATE TABLE users (
    username TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    employee_id TEXT,
    system TEXT,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    disabled_at BIGINT
);

CREATE TABLE sessions (
    id_sha256 TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX sessions_username ON sessions (username);

-- One-time links that create the first admin of a fresh server.
CREATE TABLE setup_links (
    token_sha256 TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
