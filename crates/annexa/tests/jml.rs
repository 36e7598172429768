//! Joiners, movers and leavers end to end on both engines: a second HR snapshot records
//! each event once, future-dated ones carry their date, and a mover who keeps the old
//! position's birthright access past the grace period is a finding.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const HEADER: &str = "employee_id,email,given_name,family_name,department,title,manager_id,location,worker_type,status,start_date,end_date";

struct Org {
    dir: PathBuf,
    db: String,
}

impl Org {
    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_annexa"))
            .args(["--db", &self.db, "--ledger-key", self.dir.join("ledger.key").to_str().expect("utf8")])
            .args(["--config", self.dir.join("annexa.toml").to_str().expect("utf8")])
            .args(args)
            .current_dir(&self.dir)
            .output()
            .expect("annexa runs")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("utf8")
    }

    fn file(&self, name: &str, lines: &[&str]) -> String {
        let path = self.dir.join(name);
        std::fs::write(&path, lines.join("\n") + "\n").expect("write");
        path.to_str().expect("utf8").to_string()
    }
}

fn org(base: &Path, n: usize, db: String) -> Org {
    let dir = base.join(format!("org{n}"));
    std::fs::create_dir_all(&dir).expect("dir");
    let o = Org { dir, db };
    o.file(
        "annexa.toml",
        &["[[roles]]", "id = \"sales\"", "entitlements = [\"crm:sales-team\"]", "", "[[birthright]]", "id = \"sales\"", "when = { department = \"Sales\" }", "roles = [\"sales\"]"],
    );
    o
}

#[test]
fn a_second_hr_snapshot_records_joiners_movers_and_leavers_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (n, db) in annexa_store::testing::fresh_databases(dir.path()).into_iter().enumerate() {
        let o = org(dir.path(), n, db);
        let v1 = o.file(
            "hr1.csv",
            &[
                HEADER,
                "E1,ada@x.io,Ada,Lovelace,Sales,Rep,,London,employee,active,2020-01-01,",
                "E2,bob@x.io,Bob,Byte,Eng,Dev,,London,employee,active,2020-01-01,",
                "E3,cy@x.io,Cy,Press,Eng,Dev,,London,employee,active,2020-01-01,",
                "E5,ed@x.io,Ed,Gone,Eng,Dev,,London,employee,active,2020-01-01,",
            ],
        );
        let v2 = o.file(
            "hr2.csv",
            &[
                HEADER,
                "E1,ada@x.io,Ada,Lovelace,Eng,Dev,,London,employee,active,2020-01-01,",
                "E2,bob@x.io,Bob,Byte,Eng,Dev,,London,employee,terminated,2020-01-01,2026-01-15",
                "E3,cy@x.io,Cy,Press,Eng,Dev,,London,employee,active,2020-01-01,2099-06-30",
                "E4,di@x.io,Di,Gest,Eng,Dev,,London,employee,active,2099-01-01,",
            ],
        );
        let first = String::from_utf8(o.run(&["import", "hr", &v1]).stderr).expect("utf8");
        assert!(!first.contains("joiners"), "the first snapshot is the baseline: {first}");
        let second = String::from_utf8(o.run(&["import", "hr", &v2]).stderr).expect("utf8");
        assert!(second.contains("1 joiners, 1 movers, 3 leavers"), "{second}");
        let events: serde_json::Value = serde_json::from_str(&o.ok(&["--format", "json", "jml", "list"])).expect("json");
        let mut got: Vec<(String, String, String)> = events
            .as_array()
            .expect("list")
            .iter()
            .map(|e| {
                let ev = &e["event"];
                (
                    ev["employee_id"].as_str().unwrap_or("").to_string(),
                    ev["kind"].as_str().unwrap_or("").to_string(),
                    ev["effective_at"].as_str().unwrap_or("").chars().take(10).collect(),
                )
            })
            .collect();
        got.sort();
        let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
        let mut want = vec![
            ("E1".to_string(), "mover".to_string(), today.clone()),
            ("E2".into(), "leaver".into(), "2026-01-16".into()),
            ("E3".into(), "leaver".into(), "2099-07-01".into()),
            ("E4".into(), "joiner".into(), "2099-01-01".into()),
            ("E5".into(), "leaver".into(), today.clone()),
        ];
        want.sort();
        assert_eq!(got, want, "{}", o.db);
        let mover = events.as_array().expect("list").iter().find(|e| e["event"]["kind"] == "mover").expect("mover");
        assert_eq!(mover["event"]["changes"][0]["attribute"], "department");
        assert_eq!(mover["event"]["changes"][0]["before"], "Sales");

        // The same snapshot again: nothing new.
        o.run(&["import", "hr", &v2]);
        let again: serde_json::Value = serde_json::from_str(&o.ok(&["--format", "json", "jml", "list"])).expect("json");
        assert_eq!(again.as_array().map(Vec::len), Some(5));

        // Ada kept the Sales birthright: fine during the grace period, a finding after it;
        // unexplained-access leaves it to the lifecycle check.
        o.run(&["import", "accounts", &o.file("acc.csv", &["system,account_id,username,email,employee_id,display_name,status,type,created_at,last_login_at,mfa,password_last_set_at,owner", "crm,ada,ada,ada@x.io,E1,Ada,enabled,human,2020-01-01,2099-01-01,totp,,"])]);
        o.run(&["import", "assignments", &o.file("asg.csv", &["system,account_id,entitlement,privileged,granted_at,granted_by,source", "crm,ada,sales-team,false,2020-01-01,,birthright"])]);
        let soon = (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339();
        let later = (chrono::Utc::now() + chrono::Duration::days(15)).to_rfc3339();
        let checks = ["--check", "mover-residual-access", "--check", "unexplained-access"];
        let during: serde_json::Value =
            serde_json::from_str(&o.ok(&[&["--format", "json", "audit", "--as-of", &soon][..], &checks].concat())).expect("json");
        assert_eq!(during["findings"].as_array().map(Vec::len), Some(0), "{during}");
        let after: serde_json::Value =
            serde_json::from_str(&o.ok(&[&["--format", "json", "audit", "--as-of", &later][..], &checks].concat())).expect("json");
        let findings = after["findings"].as_array().expect("findings");
        assert_eq!(findings.len(), 1, "{after}");
        assert_eq!(findings[0]["check"], "mover-residual-access");
        assert_eq!(findings[0]["subject"]["key"], "crm/ada");
        assert!(findings[0]["message"].as_str().unwrap_or("").contains("department Sales → Eng"));
        // `roles explain` says what explains each of Ada's entitlements.
        let x: serde_json::Value = serde_json::from_str(&o.ok(&["--format", "json", "roles", "explain", "E1"])).expect("json");
        assert_eq!(x["department"], "Eng");
        assert_eq!(x["holdings"][0]["entitlement"], "crm:sales-team");
        assert!(x["holdings"][0]["explained_by"].as_str().unwrap_or("").contains("position before the last move"), "{x}");
        assert_eq!(o.run(&["roles", "explain", "E404"]).status.code(), Some(2));
        // Every event is in the ledger.
        assert!(o.ok(&["ledger", "verify"]).contains("ledger verified"));
    }
}

#[test]
fn privileged_birthright_waits_until_hr_records_screening() {
    const SCREENED: &str = "employee_id,email,given_name,family_name,department,title,manager_id,location,worker_type,status,start_date,end_date,screening_date";
    let dir = tempfile::tempdir().expect("tempdir");
    for (n, db) in annexa_store::testing::fresh_databases(dir.path()).into_iter().enumerate() {
        let o = Org { dir: dir.path().join(format!("screen{n}")), db };
        std::fs::create_dir_all(&o.dir).expect("dir");
        o.file(
            "annexa.toml",
            &[
                "[provisioning]",
                "screening_before_privileged = true",
                "[privileged]",
                "entitlements = [\"corp:*-admins\"]",
                "[[roles]]",
                "id = \"eng\"",
                "entitlements = [\"corp:eng-team\", \"corp:eng-admins\"]",
                "[[birthright]]",
                "id = \"eng\"",
                "when = { department = \"Eng\" }",
                "roles = [\"eng\"]",
                "[[connectors]]",
                "system = \"corp\"",
                "kind = \"ldap\"",
                "url = \"ldap://127.0.0.1:9\"",
                "base = \"dc=x\"",
                "create_accounts = true",
            ],
        );
        let ada = "E1,ada@x.io,Ada,Lee,Eng,Dev,,London,employee,active,2020-01-01,,2019-12-01";
        o.ok(&["import", "hr", &o.file("hr1.csv", &[SCREENED, ada])]);
        o.ok(&["import", "hr", &o.file("hr2.csv", &[SCREENED, ada, "E2,cy@x.io,Cy,Fox,Eng,Dev,,London,employee,active,2020-01-01,,"])]);
        let queued = |o: &Org| -> Vec<String> {
            let tasks: serde_json::Value = serde_json::from_str(&o.ok(&["--format", "json", "provision", "list"])).expect("json");
            let mut v: Vec<String> = tasks
                .as_array()
                .expect("list")
                .iter()
                .map(|t| format!("{} {}", t["action"].as_str().unwrap_or(""), t["entitlement"].as_str().unwrap_or("-")))
                .collect();
            v.sort();
            v
        };
        let out = o.run(&["jml", "run-due"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(stderr.contains("held: cy.fox corp:eng-admins for E2 (no screening recorded (A.6.1))"), "{stderr}");
        assert_eq!(queued(&o), ["add-membership eng-team", "create-account -"], "{}", o.db);
        // Still held on the next run; nothing queued twice.
        o.ok(&["jml", "run-due"]);
        assert_eq!(queued(&o).len(), 2);
        // HR records the screening: the next run grants the privileged group, once.
        o.ok(&["import", "hr", &o.file("hr3.csv", &[SCREENED, ada, "E2,cy@x.io,Cy,Fox,Eng,Dev,,London,employee,active,2020-01-01,,2020-01-02"])]);
        let out = o.run(&["jml", "run-due"]);
        assert!(!String::from_utf8_lossy(&out.stderr).contains("held:"));
        assert_eq!(queued(&o), ["add-membership eng-admins", "add-membership eng-team", "create-account -"], "{}", o.db);
        o.ok(&["jml", "run-due"]);
        assert_eq!(queued(&o).len(), 3);
    }
}

#[test]
fn a_leavers_badge_is_deactivated_by_a_person_and_confirmed() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (n, db) in annexa_store::testing::fresh_databases(dir.path()).into_iter().enumerate() {
        let o = Org { dir: dir.path().join(format!("badge{n}")), db };
        std::fs::create_dir_all(&o.dir).expect("dir");
        o.file("annexa.toml", &["[[connectors]]", "system = \"badges\"", "kind = \"manual\"", "assignee = \"facilities\""]);
        let ada = "E1,ada@x.io,Ada,Lee,Eng,Dev,,London,employee,active,2020-01-01,";
        o.ok(&["import", "hr", &o.file("hr1.csv", &[HEADER, ada, "E2,bo@x.io,Bo,Day,Eng,Dev,,London,employee,active,2020-01-01,"])]);
        o.ok(&["import", "badges", &o.file("badges.csv", &["badge_id,employee_id,status,last_used_at,zones", "B1,E1,active,,lobby", "B2,E2,active,,lobby|lab", "B3,E2,revoked,,lobby"])]);
        o.ok(&["import", "hr", &o.file("hr2.csv", &[HEADER, ada, "E2,bo@x.io,Bo,Day,Eng,Dev,,London,employee,terminated,2020-01-01,2026-01-15"])]);
        o.ok(&["jml", "run-due"]);
        // The active badge only, waiting for a person; a worker leaves it alone.
        let waiting: serde_json::Value = serde_json::from_str(&o.ok(&["--format", "json", "provision", "list", "--manual"])).expect("json");
        let waiting = waiting.as_array().expect("list");
        assert_eq!(waiting.len(), 1, "{waiting:?}");
        assert_eq!((waiting[0]["action"].as_str(), waiting[0]["account_id"].as_str()), (Some("deactivate-badge"), Some("B2")));
        let run = o.run(&["provision", "run"]);
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        assert!(String::from_utf8_lossy(&run.stderr).contains("0 tasks"), "{}", String::from_utf8_lossy(&run.stderr));
        let id = waiting[0]["id"].to_string();
        // A note is required; an unknown or finished task is refused; nothing changes.
        assert_eq!(o.run(&["provision", "done", &id, "--note", " "]).status.code(), Some(2));
        assert_eq!(o.run(&["provision", "done", "999", "--note", "x"]).status.code(), Some(2));
        o.ok(&["provision", "done", &id, "--note", "B2 revoked in the badge system, ticket FAC-311"]);
        assert_eq!(o.run(&["provision", "done", &id, "--note", "again"]).status.code(), Some(2));
        let tasks: serde_json::Value = serde_json::from_str(&o.ok(&["--format", "json", "provision", "list"])).expect("json");
        assert_eq!(tasks[0]["status"], "done");
        assert_eq!(tasks[0]["note"], "B2 revoked in the badge system, ticket FAC-311");
        assert!(tasks[0]["confirmed_by"].as_str().is_some_and(|a| !a.is_empty()));
        o.ok(&["ledger", "export", "export"]);
        let entries = std::fs::read_to_string(o.dir.join("export/entries.jsonl")).expect("entries");
        assert_eq!(entries.lines().filter(|l| l.contains("\"kind\":\"task-done\"") && l.contains("FAC-311")).count(), 1);
        assert!(o.ok(&["ledger", "verify"]).contains("ledger verified"));
    }
}

#[test]
fn a_connectors_ca_file_is_found_next_to_the_configuration() {
    let dir = tempfile::tempdir().expect("tempdir");
    let conf = dir.path().join("conf");
    std::fs::create_dir_all(&conf).expect("dir");
    let o = Org { dir: conf.clone(), db: format!("sqlite://{}", dir.path().join("a.db").display()) };
    o.file("annexa.toml", &["[[connectors]]", "system = \"corp\"", "kind = \"ldap\"", "url = \"ldaps://dc1\"", "base = \"dc=x\"", "ca_file = \"corp-ca.pem\""]);
    let out = Command::new(env!("CARGO_BIN_EXE_annexa"))
        .args(["--config", conf.join("annexa.toml").to_str().expect("utf8"), "config", "show"])
        .current_dir(dir.path())
        .output()
        .expect("annexa runs");
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains(&format!("ca_file = \"{}\"", conf.join("corp-ca.pem").display())), "{shown}");
}

#[test]
fn connectors_are_checked_for_their_kind() {
    let dir = tempfile::tempdir().expect("tempdir");
    let o = Org { dir: dir.path().to_path_buf(), db: format!("sqlite://{}", dir.path().join("a.db").display()) };
    for (lines, says) in [
        (&["[[connectors]]", "system = \"badges\"", "kind = \"manual\"", "url = \"ldap://x\""][..], "a manual connector takes no url"),
        (&["[[connectors]]", "system = \"corp\"", "kind = \"ldap\""][..], "an ldap connector needs url and base"),
        (&["[[connectors]]", "system = \"corp\"", "kind = \"ftp\""][..], "expected ldap, scim or manual"),
        (&["[[connectors]]", "system = \"okta\"", "kind = \"scim\"", "url = \"http://x/scim/v2\""][..], "a scim connector needs url"),
        (
            &["[[connectors]]", "system = \"corp\"", "kind = \"ldap\"", "url = \"ldaps://dc1\"", "base = \"dc=x\"", "starttls = true"][..],
            "ldaps:// is TLS already",
        ),
    ] {
        o.file("annexa.toml", lines);
        let out = o.run(&["provision", "plan"]);
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains(says), "{}", String::from_utf8_lossy(&out.stderr));
    }
}
