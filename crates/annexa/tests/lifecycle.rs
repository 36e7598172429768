//! The findings lifecycle end to end, on SQLite and PostgreSQL: findings acknowledged,
//! accepted and dismissed through the CLI; suppressed findings kept out of `--fail-on`;
//! audits that reopen (acceptance expired, dismissed evidence changed, seen again after
//! remediation) and remediate; overdue findings; bad decisions refused whole; every
//! decision a ledger entry.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

mod support;

use serde_json::Value;
use std::path::Path;

const HR: &str = "employee_id,email,given_name,family_name,department,title,manager_id,location,worker_type,status,start_date,end_date\n\
E1,ana.nunez@example.com,Ana,Núñez,Finance,Controller,,Madrid,employee,active,2019-01-01,\n\
E2,leo.berg@example.com,Leo,Berg,Finance,Clerk,E1,Madrid,employee,terminated,2020-01-01,2026-09-01\n\
E3,zoe.ito@example.com,Zoë,Ito,Finance/AP,Clerk,E1,Madrid,employee,active,2021-01-01,\n";

const ACCOUNTS_HEAD: &str =
    "system,account_id,username,email,employee_id,display_name,status,type,created_at,last_login_at,mfa,password_last_set_at,owner\n";

fn accounts(leaver_status: &str) -> String {
    format!(
        "{ACCOUNTS_HEAD}\
erp,ana.nunez@example.com,ana.nunez@example.com,,E1,Ana Núñez,enabled,human,2020-01-01,2026-09-20,totp,,\n\
erp,leo.berg@example.com,leo.berg@example.com,,E2,Leo Berg,{leaver_status},human,2020-01-01,2026-08-20,totp,,\n\
erp,zoe.ito@example.com,zoe.ito@example.com,,E3,Zoë Ito,enabled,human,2021-01-01,2026-09-20,totp,,\n\
erp,batch-posting,batch-posting,,,Batch posting,enabled,service,2020-01-01,2026-09-20,,,\n"
    )
}

const ASSIGNMENTS_HEAD: &str = "system,account_id,entitlement,privileged,granted_at,granted_by,source\n";

use support::{annexa_in as annexa, import_in as import, json_in as json, ok_in as ok};

/// The finding of `check` about `subject` in an audit's JSON report.
fn finding_id(report: &Value, check: &str, subject: &str) -> String {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["check"] == check && f["subject"]["key"] == subject)
        .unwrap_or_else(|| panic!("no {check} finding about {subject}"))["id"]
        .as_str()
        .expect("id")
        .to_string()
}

fn show(dir: &Path, db: &str, id: &str) -> Value {
    json(dir, db, &["findings", "show", id])
}

/// The kind of the ledger entry a decision reported.
fn ledger_kind(dir: &Path, db: &str, decided: &Value) -> String {
    let seq = decided["ledger_entries"][0].as_u64().expect("a ledger entry").to_string();
    json(dir, db, &["ledger", "show", &seq])["entry"]["kind"].as_str().expect("kind").to_string()
}

const CHECKS: [&str; 6] = ["--check", "leaver-access", "--check", "service-account-no-owner", "--check", "certification-overdue"];

fn audit(dir: &Path, db: &str, as_of: &str) -> Value {
    let mut args = vec!["audit", "--as-of", as_of];
    args.extend_from_slice(&CHECKS);
    json(dir, db, &args)
}

#[test]
fn findings_are_acknowledged_accepted_dismissed_reopened_and_remediated() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    // A risk acceptance must expire in the future of the clock that records it.
    let today = chrono::Utc::now().date_naive();
    let expires = (today + chrono::Days::new(30)).to_string();
    let after_expiry = (today + chrono::Days::new(31)).to_string();
    for db in annexa_store::testing::fresh_databases(d) {
        let db = db.as_str();
        import(d, db, "hr", HR);
        import(d, db, "accounts", &accounts("enabled"));
        import(
            d,
            db,
            "assignments",
            &format!("{ASSIGNMENTS_HEAD}erp,zoe.ito@example.com,Finance/AP approve,false,2024-01-01,E1,request\n"),
        );
        let first = audit(d, db, "2026-10-01");
        let leaver = finding_id(&first, "leaver-access", "erp/leo.berg@example.com");
        let service = finding_id(&first, "service-account-no-owner", "erp/batch-posting");
        let overdue_cert = finding_id(&first, "certification-overdue", "erp/zoe.ito@example.com");
        for id in [&leaver, &service, &overdue_cert] {
            assert_eq!(show(d, db, id)["state"], "open", "{db}");
        }
        // A critical finding is due 7 days after it was first seen, by default.
        assert_eq!(show(d, db, &leaver)["due"], "2026-10-08", "{db}");

        // Acknowledged with an owner and a due date of its own.
        let done = json(d, db, &["findings", "assign", &leaver, "--owner", "E1", "--due", "2026-10-10"]);
        assert_eq!(done["state"], "acknowledged", "{db}");
        assert_eq!(ledger_kind(d, db, &done), "findings-acknowledged", "{db}");
        let shown = show(d, db, &leaver);
        assert_eq!((shown["owner"].as_str(), shown["due"].as_str()), (Some("E1"), Some("2026-10-10")), "{db}");

        // A decision naming one unknown finding applies to none.
        let out = annexa(d, db, &["findings", "assign", &leaver, "F-0000000000000000", "--owner", "E3"]);
        assert_eq!(out.status.code(), Some(2), "{db}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("F-0000000000000000"), "{db}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(show(d, db, &leaver)["owner"], "E1", "{db}: nothing applied");
        // Neither ids nor a filter: refused, not "all of them".
        assert_eq!(annexa(d, db, &["findings", "dismiss", "--reason", "x"]).status.code(), Some(2), "{db}");
        // An acceptance that has already expired is no acceptance.
        let out = annexa(d, db, &["findings", "accept", &service, "--approver", "E1", "--reason", "r", "--expires", "2020-01-01"]);
        assert_eq!(out.status.code(), Some(2), "{db}");

        // Accepted as a risk (by filter: every open finding of the check), and dismissed.
        let done = json(
            d,
            db,
            &[
                "findings",
                "accept",
                "--check",
                "service-account-no-owner",
                "--approver",
                "E1",
                "--reason",
                "vendor batch job, owner being appointed",
                "--expires",
                &expires,
            ],
        );
        assert_eq!(done["findings"], serde_json::json!([service]), "{db}");
        assert_eq!(ledger_kind(d, db, &done), "findings-accepted", "{db}");
        let done = json(d, db, &["findings", "dismiss", &overdue_cert[..10], "--reason", "certified in the ERP's own review"]);
        assert_eq!(done["findings"], serde_json::json!([overdue_cert]), "{db}: a prefix names the finding");
        assert_eq!(ledger_kind(d, db, &done), "findings-dismissed", "{db}");
        let done = json(d, db, &["findings", "comment", &leaver, "--text", "ticket IAM-1234"]);
        assert_eq!(ledger_kind(d, db, &done), "findings-commented", "{db}");
        assert_eq!(show(d, db, &leaver)["comments"][0]["text"], "ticket IAM-1234", "{db}");

        // Suppressed findings are still seen, but neither counted as open nor failing.
        let out = annexa(
            d,
            db,
            &[
                "audit",
                "--as-of",
                "2026-10-12",
                "--check",
                "service-account-no-owner",
                "--check",
                "certification-overdue",
                "--fail-on",
                "low",
            ],
        );
        assert!(out.status.success(), "{db}: only suppressed findings, yet: {}", String::from_utf8_lossy(&out.stdout));
        let table = String::from_utf8_lossy(&out.stdout);
        assert!(table.contains("2 more accepted as risks or dismissed as false positives"), "{db}: {table}");
        let mut args = vec!["audit", "--as-of", "2026-10-12", "--fail-on", "high"];
        args.extend_from_slice(&CHECKS);
        let out = annexa(d, db, &args);
        assert_eq!(out.status.code(), Some(1), "{db}: the acknowledged leaver still fails the build");
        let table = String::from_utf8_lossy(&out.stdout);
        assert!(table.contains("Overdue: 1 findings past their due date (1 critical)"), "{db}: {table}");
        let overdue = json(d, db, &["findings", "list", "--overdue"]);
        let ids: Vec<&str> = overdue.as_array().expect("list").iter().filter_map(|f| f["id"].as_str()).collect();
        assert_eq!(ids, [leaver.as_str()], "{db}");
        let report = audit(d, db, "2026-10-12");
        assert_eq!(report["totals"]["suppressed"], 2, "{db}");
        assert_eq!(report["overdue"]["total"], 1, "{db}");

        // Other records reopen a dismissed finding: the account got another entitlement.
        import(
            d,
            db,
            "assignments",
            &format!(
                "{ASSIGNMENTS_HEAD}erp,zoe.ito@example.com,Finance/AP approve,false,2024-01-01,E1,request\n\
                 erp,zoe.ito@example.com,Vendor master,false,2024-02-01,E1,request\n"
            ),
        );
        let report = audit(d, db, "2026-10-13");
        assert_eq!(report["totals"]["reopened"], 1, "{db}");
        let shown = show(d, db, &overdue_cert);
        assert_eq!(shown["state"], "reopened", "{db}");
        assert!(shown["reason"].as_str().expect("reason").contains("records it rests on changed"), "{db}: {shown}");

        // The acceptance expires: the next audit after it reopens the finding.
        assert_eq!(show(d, db, &service)["state"], "accepted", "{db}");
        audit(d, db, &after_expiry);
        let shown = show(d, db, &service);
        assert_eq!(shown["state"], "reopened", "{db}");
        assert!(shown["reason"].as_str().expect("reason").contains("expired"), "{db}: {shown}");

        // Remediated only by an audit that no longer sees it; then nothing is left to decide.
        import(d, db, "accounts", &accounts("disabled"));
        let report = audit(d, db, &after_expiry);
        assert!(report["resolved"].as_array().expect("resolved").iter().any(|id| id == leaver.as_str()), "{db}");
        let shown = show(d, db, &leaver);
        assert_eq!(shown["state"], "remediated", "{db}");
        assert!(shown.get("owner").is_none() && shown.get("due").is_none(), "{db}: {shown}");
        let out = annexa(d, db, &["findings", "accept", &leaver, "--approver", "E1", "--reason", "r", "--expires", &expires]);
        assert_eq!(out.status.code(), Some(2), "{db}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("remediated"), "{db}: {}", String::from_utf8_lossy(&out.stderr));
        let remediated = json(d, db, &["findings", "list", "--state", "remediated"]);
        assert!(remediated.as_array().expect("list").iter().any(|f| f["id"] == leaver.as_str()), "{db}");

        // Seen again: reopened, with why.
        import(d, db, "accounts", &accounts("enabled"));
        let report = audit(d, db, &after_expiry);
        assert!(report["new"].as_array().expect("new").iter().any(|id| id == leaver.as_str()), "{db}");
        let shown = show(d, db, &leaver);
        assert_eq!(shown["state"], "reopened", "{db}");
        assert!(shown["reason"].as_str().expect("reason").contains("seen again"), "{db}: {shown}");
        let reopened = json(d, db, &["findings", "list", "--state", "reopened"]);
        assert_eq!(reopened.as_array().expect("list").len(), 3, "{db}: {reopened}");

        // The ledger still verifies with every decision in it.
        ok(d, db, &["ledger", "verify"]);
    }
}

/// The kinds of the ledger's entries, in order, read straight from the database.
fn ledger_kinds(db: &str) -> Vec<String> {
    let sql = "SELECT kind FROM ledger_entries ORDER BY seq";
    match db.strip_prefix("sqlite://") {
        Some(path) => {
            let conn = rusqlite::Connection::open(path).expect("sqlite");
            let mut stmt = conn.prepare(sql).expect("prepare");
            stmt.query_map([], |r| r.get::<_, String>(0)).expect("query").map(|k| k.expect("kind")).collect()
        }
        None => {
            let mut client = postgres::Client::connect(db, postgres::NoTls).expect("postgres");
            client.query(sql, &[]).expect("query").iter().map(|r| r.get::<_, String>(0)).collect()
        }
    }
}

#[test]
fn a_nonconformity_closes_only_after_its_actions_and_a_confirming_audit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let leaver_only = ["--check", "leaver-access"];
    for db in annexa_store::testing::fresh_databases(d) {
        let db = db.as_str();
        import(d, db, "hr", HR);
        import(d, db, "accounts", &accounts("enabled"));
        let mut args = vec!["audit", "--as-of", "2026-10-01"];
        args.extend_from_slice(&leaver_only);
        let first = json(d, db, &args);
        let leaver = finding_id(&first, "leaver-access", "erp/leo.berg@example.com");

        // A finding of another control does not belong; neither does a check of another.
        let mut all = vec!["audit", "--as-of", "2026-10-01"];
        all.extend_from_slice(&CHECKS);
        let report = json(d, db, &all);
        let service = finding_id(&report, "service-account-no-owner", "erp/batch-posting");
        let out = annexa(d, db, &["nc", "open", "--title", "x", "--control", "A.5.18", "--finding", &service]);
        assert_eq!(out.status.code(), Some(2), "{db}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("not A.5.18"), "{db}: {}", String::from_utf8_lossy(&out.stderr));
        let out = annexa(d, db, &["nc", "open", "--title", "x", "--control", "A.8.2", "--check", "leaver-access"]);
        assert_eq!(out.status.code(), Some(2), "{db}");
        // An observation says what was observed.
        assert_eq!(annexa(d, db, &["nc", "open", "--title", "x", "--control", "A.7.2"]).status.code(), Some(2), "{db}");

        let nc = json(
            d,
            db,
            &[
                "nc",
                "open",
                "--title",
                "Leavers keep access",
                "--control",
                "A.9.2.6",
                "--check",
                "leaver-access",
                "--root-cause",
                "terminations reach IT by e-mail",
            ],
        );
        assert_eq!(nc["control"], "A.5.18", "{db}: the 2013 id names its 2022 control");
        assert_eq!(nc["findings"][0]["id"], leaver.as_str(), "{db}");
        let id = format!("NC-{}", nc["id"]);
        let out = annexa(d, db, &["nc", "close", &id, "--effectiveness", "none"]);
        assert_eq!(out.status.code(), Some(2), "{db}");
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(said.contains("no corrective action") && said.contains(&format!("finding {leaver} is still open")), "{db}: {said}");

        let with_action = json(
            d,
            db,
            &["nc", "action", &id, "--add", "Terminations trigger the leaver workflow", "--owner", "E1", "--due", "2026-11-30"],
        );
        assert_eq!(with_action["actions"][0]["status"], "planned", "{db}: {with_action}");
        let done = json(d, db, &["nc", "action", &id, "--set", "1", "--status", "done"]);
        assert_eq!(done["actions"][0]["status"], "done", "{db}");
        // Remediated by an audit, but not yet confirmed by a later one.
        import(d, db, "accounts", &accounts("disabled"));
        let mut args = vec!["audit", "--as-of", "2026-10-20"];
        args.extend_from_slice(&leaver_only);
        ok(d, db, &args);
        let out = annexa(d, db, &["nc", "close", &id, "--effectiveness", "no leaver kept access"]);
        assert_eq!(out.status.code(), Some(2), "{db}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("no later audit has confirmed"),
            "{db}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let shown = json(d, db, &["nc", "show", &id]);
        assert_eq!(shown["findings"][0]["state"], "remediated", "{db}");
        assert_eq!(shown["findings"][0]["confirmed"], false, "{db}");

        let mut args = vec!["audit", "--as-of", "2026-11-01"];
        args.extend_from_slice(&leaver_only);
        let confirming = json(d, db, &args);
        let closed = json(d, db, &["nc", "close", &id, "--effectiveness", "no leaver kept access in the November audit"]);
        assert_eq!(closed["status"], "closed", "{db}");
        assert_eq!(closed["closed_run"], confirming["run_id"], "{db}");
        assert_eq!(closed["findings"][0]["confirmed"], true, "{db}");
        let out = annexa(d, db, &["nc", "action", &id, "--add", "late", "--owner", "E1", "--due", "2026-12-01"]);
        assert_eq!(out.status.code(), Some(2), "{db}: a closed nonconformity takes no more actions");

        // A manual observation closes on its actions alone.
        let obs = json(
            d,
            db,
            &["nc", "open", "--title", "Visitor log not reviewed", "--control", "A.7.2", "--description", "no review since June"],
        );
        let obs_id = format!("NC-{}", obs["id"]);
        ok(d, db, &["nc", "action", &obs_id, "--add", "Monthly review by facilities", "--owner", "E3", "--due", "2026-12-31"]);
        ok(d, db, &["nc", "action", &obs_id, "--set", "1", "--status", "done"]);
        ok(d, db, &["nc", "close", &obs_id, "--effectiveness", "reviews of October and November on file"]);
        let list = json(d, db, &["nc", "list", "--status", "closed"]);
        assert_eq!(list.as_array().expect("list").len(), 2, "{db}: {list}");

        let kinds = ledger_kinds(db);
        for kind in ["nc-opened", "nc-action-added", "nc-action-updated", "nc-closed"] {
            assert!(kinds.iter().any(|k| k == kind), "{db}: no {kind} in the ledger: {kinds:?}");
        }
        ok(d, db, &["ledger", "verify"]);
    }
}

#[test]
fn a_dismissal_holds_while_the_finding_rests_on_the_same_records() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    for db in annexa_store::testing::fresh_databases(d) {
        let db = db.as_str();
        import(d, db, "hr", HR);
        import(d, db, "accounts", &accounts("enabled"));
        let leaver_only = |as_of: &str| json(d, db, &["audit", "--as-of", as_of, "--check", "leaver-access"]);
        let first = leaver_only("2026-10-01");
        let leaver = finding_id(&first, "leaver-access", "erp/leo.berg@example.com");
        ok(d, db, &["findings", "dismiss", &leaver, "--reason", "a shared training login kept on purpose"]);
        // Days later the message counts more days, but the finding rests on the same person
        // and account: it stays dismissed.
        let later = leaver_only("2026-10-05");
        let message = |r: &Value| r["findings"][0]["message"].as_str().expect("message").to_string();
        assert_ne!(message(&first), message(&later), "{db}: the message moved on");
        assert_eq!((later["totals"]["suppressed"].as_u64(), later["totals"]["reopened"].as_u64()), (Some(1), Some(0)), "{db}: {later}");
        assert_eq!(show(d, db, &leaver)["state"], "false-positive", "{db}");
    }
}
