-- A streamed import's snapshot (snapshot.rs, `StreamEncoder`) is stored in parts while its
-- file is read, so that writing hundreds of megabytes no longer waits for the end of the
-- file: `snapshots.data` holds its head, written last, and these rows the bytes that follow
-- it, in `seq` order. Read back, the head and its parts joined are the snapshot.
CREATE TABLE snapshot_parts (
    import_id BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    data {{blob}} NOT NULL,
    PRIMARY KEY (import_id, seq)
);
