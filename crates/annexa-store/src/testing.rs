//! Test databases on both engines, for this crate's tests and the others'.
//!
//! `ANNEXA_TEST_POSTGRES` names a PostgreSQL server (the test script starts one); each
//! call makes a fresh database there. Under `CI=true` its absence is a failure.

// Test support: a test that cannot get its database should stop loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// A fresh, empty database URL per backend: a SQLite file in `dir`, and a new PostgreSQL
/// database when `ANNEXA_TEST_POSTGRES` is set.
pub fn fresh_databases(dir: &std::path::Path) -> Vec<String> {
    let mut urls = vec![format!("sqlite://{}", dir.join("annexa-test.db").display())];
    if let Some(base) = component("ANNEXA_TEST_POSTGRES", "PostgreSQL") {
        urls.push(fresh_postgres(&base));
    }
    urls
}

/// The value of `var`, which names a component a test needs (PostgreSQL, slapd, the SCIM
/// conformance suite): when it is not set, the test says on the terminal that it skips
/// that part (even while the harness captures its output), and under `CI=true` it fails
/// instead, so that a green run never hides an untested engine.
pub fn component(var: &str, what: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) => Some(v),
        Err(_) => {
            assert!(std::env::var("CI").is_err(), "{var} is not set: under CI the {what} tests must run (use scripts/test)");
            let test = std::thread::current().name().unwrap_or("a test").to_string();
            // Written to the stream itself: the harness captures only print!/eprint!.
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr(), "skipped: {test} without {what} ({var} is not set; scripts/test starts it)");
            None
        }
    }
}

fn fresh_postgres(base: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let name = format!("annexa_t{}_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst), nanos);
    let mut client = postgres::Client::connect(base, postgres::NoTls).unwrap_or_else(|e| panic!("connect {base}: {e}"));
    client.batch_execute(&format!("CREATE DATABASE {name}")).unwrap_or_else(|e| panic!("create database: {e}"));
    match base.rfind('/') {
        Some(i) => format!("{}/{name}", &base[..i]),
        None => panic!("ANNEXA_TEST_POSTGRES must end with /DBNAME"),
    }
}
