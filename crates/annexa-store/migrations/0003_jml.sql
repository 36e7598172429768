-- Joiner, mover and leaver events detected when an HR snapshot replaces the previous one.
-- An event is recorded once (its id is stable); those whose effective time is in the
-- future wait for it.
CREATE TABLE jml_events (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    employee_id TEXT NOT NULL,
    effective_at BIGINT NOT NULL,
    detected_at BIGINT NOT NULL,
    import_id BIGINT NOT NULL,
    changes TEXT NOT NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL
);
CREATE INDEX jml_events_by_kind ON jml_events (kind, effective_at);
