-- The server's recurring jobs, leased through the database so that several instances on
-- one database run each of them once per interval: an instance runs a job only when it is
-- due and nobody holds it, and holds it (renewing the lease) while it runs. A holder that
-- dies leaves a lease that expires, and the job, not done, is due for the next instance.
CREATE TABLE job_leases (
    name TEXT PRIMARY KEY,
    holder TEXT,
    leased_until BIGINT NOT NULL,
    next_due_at BIGINT NOT NULL,
    runs BIGINT NOT NULL
);
