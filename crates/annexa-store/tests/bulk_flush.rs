//! A bulk write on SQLite that has the file to itself (rollback journal) has a thread flush
//! what it has written so far to disk while it runs, so that its commit does not wait for
//! hundreds of megabytes at once; the thread ends with the transaction, committed or not,
//! and a write through the log (another connection open) has none.
//!
//! One test in a binary of its own: it counts the process's flushing threads, which tests
//! running beside it would start too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

mod common;
use common::account;

use annexa_core::model::{Account, ImportKind};
use annexa_store::{RestOfImport, Store, StreamedRecords};

/// Threads of this process named as a bulk write's flusher (`/proc/self/task/*/comm`).
fn flushers() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.trim() == "annexa-flush")
        .count()
}

fn accounts(prefix: &str) -> Vec<Account> {
    (0..2_000).map(|n| account("okta", &format!("{prefix}-Ærø/{n}@example.com"))).collect()
}

/// A streamed import of two chunks into `store`, kept or refused; returns how many flushers
/// ran while its second chunk was asked for.
fn import(store: &mut Store, prefix: &str, keep: bool) -> usize {
    let mut chunks_given = 0;
    let mut during = 0;
    let mut chunks = std::iter::from_fn(|| {
        chunks_given += 1;
        match chunks_given {
            1 => Some(StreamedRecords::Accounts(accounts(&format!("{prefix}-a")))),
            2 => {
                // The first chunk is written, inside the transaction.
                during = flushers();
                Some(StreamedRecords::Accounts(accounts(&format!("{prefix}-b"))))
            }
            _ => None,
        }
    });
    let stored = store
        .import_streamed(ImportKind::Accounts, "importer", chrono::Utc::now(), &mut chunks, &mut |_| {
            keep.then(|| RestOfImport {
                file: "okta-accounts.csv".into(),
                sha256: "ef".into(),
                rows: 4_000,
                systems: vec!["okta".into()],
                entitlements: Vec::new(),
                quarantine: None,
            })
        })
        .unwrap();
    assert_eq!(stored.is_some(), keep);
    during
}

#[test]
fn a_bulk_write_alone_flushes_while_it_runs_and_stops_when_it_ends() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("annexa.db").display());
    let mut store = Store::open(&url).unwrap();
    assert_eq!(flushers(), 0);

    assert_eq!(import(&mut store, "kept", true), 1, "an import alone flushes while it writes");
    assert_eq!(flushers(), 0, "the flusher ends with the committed transaction");

    assert_eq!(import(&mut store, "refused", false), 1);
    assert_eq!(flushers(), 0, "the flusher ends with the rolled back transaction");

    // Another connection keeps the import in the log, which has nothing to flush early.
    let reader = Store::open(&url).unwrap();
    assert_eq!(import(&mut store, "shared", true), 0, "beside another connection there is no flusher");
    drop(reader);
    assert_eq!(flushers(), 0);
}
