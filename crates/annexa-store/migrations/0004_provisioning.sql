-- The durable provisioning queue: every change to a target system is a task with an
-- idempotency key, attempts with backoff, a lease (so a worker that dies releases its
-- tasks), and a terminal failed state that keeps the error.
CREATE TABLE provisioning_tasks (
    id {{id}},
    idempotency_key TEXT NOT NULL UNIQUE,
    event_id TEXT,
    employee_id TEXT,
    system TEXT NOT NULL,
    action TEXT NOT NULL,
    account_id TEXT NOT NULL,
    entitlement TEXT,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    max_attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX provisioning_due ON provisioning_tasks (status, next_attempt_at);
