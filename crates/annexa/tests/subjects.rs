//! Subject keys with `/` in their parts (GitHub `org/team`, AWS ARNs, `Finance/AP`): two
//! accounts, or two assignments, whose parts only differ in where the `/` falls are two
//! subjects (two findings, two evidence records), on SQLite and PostgreSQL; and ordinary
//! subjects keep the finding ids the check and key give them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

use std::process::{Command, Output};

const ACCOUNTS: &str = "system,account_id,username,email,employee_id,display_name,status,type,created_at,last_login_at,mfa,password_last_set_at,owner\n\
app,b/c,bc,,,B C,enabled,service,2020-01-01,2026-11-01,,,E1\n\
app,b,b,,,B,enabled,service,2020-01-01,2026-11-01,,,E1\n\
app,x,x,,,X,enabled,service,2020-01-01,2026-11-01,,,E1\n";

const ASSIGNMENTS: &str = "system,account_id,entitlement,privileged,granted_at,granted_by,source\n\
app,b/c,d,false,2020-01-01,E1,request\n\
app,b,c/d,false,2020-01-01,E1,request\n\
app,x,e,false,2020-01-01,E1,request\n";

fn annexa(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_annexa")).args(["--db", db]).args(args).output().expect("annexa runs")
}

#[test]
fn assignments_that_differ_in_where_the_slash_falls_are_two_findings() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("accounts.csv"), ACCOUNTS).expect("accounts");
    std::fs::write(dir.path().join("assignments.csv"), ASSIGNMENTS).expect("assignments");
    for db in annexa_store::testing::fresh_databases(dir.path()) {
        for kind in ["accounts", "assignments"] {
            let file = dir.path().join(format!("{kind}.csv"));
            let out = annexa(&db, &["import", kind, file.to_str().expect("utf8")]);
            assert!(out.status.success(), "{db}: {}", String::from_utf8_lossy(&out.stderr));
        }
        // Twice: the second run must see the same findings as still open.
        for run in 0..2 {
            let out = annexa(&db, &["--format", "json", "audit", "--check", "certification-overdue", "--as-of", "2026-12-01"]);
            assert!(out.status.success(), "{db}: {}", String::from_utf8_lossy(&out.stderr));
            let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
            let mut found: Vec<(String, String, String)> = report["findings"]
                .as_array()
                .expect("findings")
                .iter()
                .map(|f| {
                    let record = f["evidence"]["records"][0]["key"].as_str().expect("record").to_string();
                    (f["subject"]["key"].as_str().expect("key").to_string(), f["id"].as_str().expect("id").to_string(), record)
                })
                .collect();
            found.sort();
            let keys: Vec<&str> = found.iter().map(|(k, _, _)| k.as_str()).collect();
            assert_eq!(keys, ["app/b", "app/b%2Fc", "app/x"], "{db} run {run}");
            let records: Vec<&str> = found.iter().map(|(_, _, r)| r.as_str()).collect();
            assert_eq!(records, ["app/b/c%2Fd", "app/b%2Fc/d", "app/x/e"], "{db} run {run}");
            assert_ne!(found[0].1, found[1].1);
            assert_eq!(found[2].1, annexa_core::finding::finding_id("certification-overdue", "app/x"), "{db}: ids come from check and key");
            assert_eq!(found[2].1, "F-90b54cb00b7c1af1", "{db}: ids come from check and key, the same in every version");
        }
        // A page of the list, in listing order (same severity and check: by subject key).
        let out = annexa(&db, &["--format", "json", "findings", "list", "--limit", "1", "--offset", "1"]);
        assert!(out.status.success(), "{db}: {}", String::from_utf8_lossy(&out.stderr));
        let page: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(page.as_array().map(Vec::len), Some(1));
        assert_eq!(page[0]["subject"]["key"], "app/b%2Fc", "{db}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("2-2 of 3 finding(s)"), "{}", String::from_utf8_lossy(&out.stderr));
        // An account's key finds its finding; run 1's report is what run 1 said.
        let out = annexa(&db, &["--format", "json", "findings", "list", "--subject", "app/b%2Fc", "--run", "1"]);
        let listed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(listed.as_array().map(Vec::len), Some(1), "{db}: {listed}");
    }
}

#[test]
fn findings_stored_under_an_ambiguous_key_are_re_keyed_on_upgrade() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("a.db");
    let db = format!("sqlite://{}", path.display());
    // Only account `b/c` exists under `app/b/c…`: the old key `app/b/c` can mean that alone.
    std::fs::write(dir.path().join("accounts.csv"), ACCOUNTS).expect("accounts");
    std::fs::write(dir.path().join("assignments.csv"), "system,account_id,entitlement,privileged,granted_at,granted_by,source\napp,b/c,d,false,2020-01-01,E1,request\n").expect("assignments");
    for kind in ["accounts", "assignments"] {
        let out = annexa(&db, &["import", kind, dir.path().join(format!("{kind}.csv")).to_str().expect("utf8")]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let audit = |db: &str| -> serde_json::Value {
        let out = annexa(db, &["--format", "json", "audit", "--check", "certification-overdue", "--as-of", "2026-12-01"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("json")
    };
    let first = audit(&db);
    let id = first["findings"][0]["id"].as_str().expect("id").to_string();
    // What the version before escaped keys stored: the key as it was, the id from it.
    let old_id = annexa_core::finding::finding_id("certification-overdue", "app/b/c");
    {
        let c = rusqlite::Connection::open(&path).expect("sqlite");
        c.execute("UPDATE findings SET id = ?1, subject_key = 'app/b/c' WHERE id = ?2", [&old_id, &id]).expect("old finding");
        c.execute("UPDATE run_findings SET finding_id = ?1 WHERE finding_id = ?2", [&old_id, &id]).expect("old run");
        c.execute("DELETE FROM schema_migrations WHERE version = 8", []).expect("back to 7");
        c.execute("DROP INDEX IF EXISTS run_findings_by_finding", []).expect("back to 7");
        // Before version 24 the records were rows too, which is what migration 8 reads.
        c.execute_batch(
            "CREATE TABLE accounts (system TEXT NOT NULL, account_id TEXT NOT NULL);
             CREATE TABLE assignments (system TEXT NOT NULL, account_id TEXT NOT NULL, entitlement TEXT NOT NULL);
             CREATE TABLE badges (system TEXT NOT NULL, badge_id TEXT NOT NULL);
             INSERT INTO accounts VALUES ('app', 'b/c'), ('app', 'b'), ('app', 'x');
             INSERT INTO assignments VALUES ('app', 'b/c', 'd');",
        )
        .expect("the rows of version 7");
    }
    // The upgrade re-keys it: the next audit sees the same finding still open, not a new one.
    let second = audit(&db);
    assert_eq!(second["findings"][0]["id"], id.as_str());
    assert_eq!(second["new"], serde_json::json!([]), "{second}");
    assert_eq!(second["resolved"], serde_json::json!([]), "{second}");
    let shown = annexa(&db, &["--format", "json", "findings", "show", &id]);
    assert!(shown.status.success(), "{}", String::from_utf8_lossy(&shown.stderr));
}
