//! Bulk writes on SQLite (imports, a first audit) leave the write-ahead log for a rollback
//! journal when they have the file to themselves, so that their pages are written once;
//! the log is back afterwards, committed or not, and another connection keeps them in WAL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

mod common;
use common::account;

use annexa_core::model::{Account, ImportKind};
use annexa_store::{NewImport, RestOfImport, Store, StreamedRecords};
use std::path::Path;

/// Enough accounts that an import writes hundreds of pages.
const ACCOUNTS: usize = 5_000;

fn accounts(system: &str, prefix: &str) -> Vec<Account> {
    (0..ACCOUNTS).map(|n| account(system, &format!("{prefix}-ångström/{n}@example.com"))).collect()
}

fn import(store: &mut Store, system: &str, accounts: &[Account]) {
    let systems = vec![system.to_string()];
    store
        .import(&NewImport {
            actor: "importer",
            kind: ImportKind::Accounts,
            file: "accounts.csv",
            sha256: "ab",
            rows: accounts.len() as u64,
            at: chrono::Utc::now(),
            systems: &systems,
            people: &[],
            accounts,
            entitlements: &[],
            assignments: &[],
            badges: &[],
            jml_events: &[],
            quarantine: None,
        })
        .expect("import");
}

/// Bytes in the database's write-ahead log (none when it has no log file).
fn log_bytes(db: &Path) -> u64 {
    std::fs::metadata(db.with_extension("db-wal")).map(|m| m.len()).unwrap_or(0)
}

fn journal_mode(db: &Path) -> String {
    rusqlite::Connection::open(db).unwrap().query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap()
}

/// The accounts the store holds now, as an audit would read them, that `keep` says.
fn accounts_held(store: &mut Store, keep: impl Fn(&Account) -> bool) -> usize {
    store.load_graph().unwrap().accounts.iter().filter(|a| keep(a)).count()
}

fn count(db: &Path, sql: &str) -> i64 {
    rusqlite::Connection::open(db).unwrap().query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn an_import_alone_writes_its_pages_once_and_another_connection_keeps_it_in_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("annexa.db");
    let url = format!("sqlite://{}", db.display());
    let mut store = Store::open(&url).unwrap();
    import(&mut store, "okta", &accounts("okta", "alone"));
    // Alone: the pages went to the database file, none to the log, and the log is back.
    assert_eq!(log_bytes(&db), 0, "an import alone writes nothing to the write-ahead log");
    assert!(!db.with_extension("db-journal").exists(), "the rollback journal is gone once committed");
    assert_eq!(journal_mode(&db), "wal");
    assert_eq!(accounts_held(&mut store, |a| &*a.system == "okta"), ACCOUNTS);

    // A reader holds the file open (as a server does): the import goes through the log.
    let reader = Store::open(&url).unwrap();
    import(&mut store, "github", &accounts("github", "shared"));
    assert!(log_bytes(&db) > 100_000, "beside another connection the import is written to the log ({} bytes)", log_bytes(&db));
    drop(reader);
    assert_eq!(accounts_held(&mut store, |_| true), 2 * ACCOUNTS);
    assert_eq!(journal_mode(&db), "wal");
}

#[test]
fn a_refused_streamed_import_alone_leaves_nothing_and_the_log_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("annexa.db");
    let url = format!("sqlite://{}", db.display());
    let mut store = Store::open(&url).unwrap();
    import(&mut store, "okta", &accounts("okta", "kept"));
    let before = count(&db, "SELECT COUNT(*) FROM imports");
    let parts_before = count(&db, "SELECT COUNT(*) FROM snapshot_parts");
    // More than a snapshot chunk (65,536 records): parts are written before the refusal.
    let mut chunks = (0..14).map(|k| StreamedRecords::Accounts(accounts("okta", &format!("refused{k}"))));
    let stored = store.import_streamed(ImportKind::Accounts, "importer", chrono::Utc::now(), &mut chunks, &mut |_| None).unwrap();
    assert!(stored.is_none(), "a refused file stores nothing");
    assert!(!db.with_extension("db-journal").exists(), "the rollback journal is gone once rolled back");
    assert_eq!(journal_mode(&db), "wal");
    assert_eq!(count(&db, "SELECT COUNT(*) FROM imports"), before);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM snapshot_parts"), parts_before, "the parts written before the refusal are gone");
    assert_eq!(accounts_held(&mut store, |a| a.account_id.starts_with("kept-")), ACCOUNTS);
    assert_eq!(accounts_held(&mut store, |a| a.account_id.starts_with("refused")), 0);
}

#[test]
fn a_database_opened_during_a_bulk_write_waits_for_it_and_then_sees_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("annexa.db");
    let url = format!("sqlite://{}", db.display());
    let mut store = Store::open(&url).unwrap();
    let (writing, written) = std::sync::mpsc::channel::<()>();
    std::thread::scope(|scope| {
        let url = &url;
        let opener = scope.spawn(move || {
            written.recv().unwrap();
            // The bulk write holds the file: opening waits for it (it cannot turn the
            // log back on meanwhile, and must not fail for that).
            let mut other = Store::open(url).expect("a database opened during a bulk write");
            accounts_held(&mut other, |_| true)
        });
        let mut first = true;
        let mut chunks = std::iter::from_fn(|| {
            if !first {
                // The first chunk is written: let the other connection try, then end.
                writing.send(()).unwrap();
                std::thread::sleep(std::time::Duration::from_millis(500));
                return None;
            }
            first = false;
            Some(StreamedRecords::Accounts(accounts("okta", "streamed")))
        });
        let stored = store
            .import_streamed(ImportKind::Accounts, "importer", chrono::Utc::now(), &mut chunks, &mut |_| {
                Some(RestOfImport {
                    file: "accounts.csv".into(),
                    sha256: "cd".into(),
                    rows: ACCOUNTS as u64,
                    systems: vec!["okta".into()],
                    entitlements: Vec::new(),
                    quarantine: None,
                })
            })
            .unwrap();
        assert!(stored.is_some());
        assert_eq!(opener.join().unwrap(), ACCOUNTS, "the other connection sees the import once it is committed");
    });
    assert_eq!(accounts_held(&mut store, |_| true), ACCOUNTS);
    drop(store);
    // Whichever connection came last, the next one opened finds the log on.
    let _again = Store::open(&url).unwrap();
    assert_eq!(journal_mode(&db), "wal");
}
