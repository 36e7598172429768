//! Access certification campaigns end to end, on SQLite and PostgreSQL, on data unlike the
//! demo's (non-ASCII names, e-mail-shaped logins, `/` in entitlement names): a campaign
//! launched from the first audit's `certification-overdue` findings, reviewers resolved
//! (manager, fallback, never oneself), decisions refused for every rule, a revocation queued,
//! bulk decisions, the same access decided alike in two campaigns, concurrent deciders of
//! one item (exactly one wins), and a close that makes `certification-overdue` fall.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

mod support;

use serde_json::Value;
use std::path::Path;
use std::process::Output;

// E0 heads the team; E1 manages E2 and E3; E4 has no manager; E5 left.
const HR: &str = "employee_id,email,given_name,family_name,department,title,manager_id,location,worker_type,status,start_date,end_date\n\
E0,ines.faure@example.com,Inès,Faure,Finance,CFO,,Paris,employee,active,2015-01-01,\n\
E1,ana.nunez@example.com,Ana,Núñez,Finance,Controller,E0,Madrid,employee,active,2019-01-01,\n\
E2,leo.berg@example.com,Leo,Berg,Finance,Clerk,E1,Madrid,employee,active,2020-01-01,\n\
E3,zoe.ito@example.com,Zoë,Ito,Finance,Clerk,E1,Madrid,employee,active,2021-01-01,\n\
E4,omar.haddad@example.com,Omar,Haddad,Finance,Clerk,,Madrid,employee,active,2021-01-01,\n\
E5,kai.lund@example.com,Kai,Lund,Finance,Clerk,E1,Madrid,employee,terminated,2020-01-01,2026-06-30\n";

const ACCOUNTS: &str =
    "system,account_id,username,email,employee_id,display_name,status,type,created_at,last_login_at,mfa,password_last_set_at,owner\n\
erp,ana.nunez@example.com,ana.nunez@example.com,,E1,Ana Núñez,enabled,human,2020-01-01,2026-11-20,totp,,\n\
erp,leo.berg@example.com,leo.berg@example.com,,E2,Leo Berg,enabled,human,2020-01-01,2026-11-20,totp,,\n\
erp,zoe.ito@example.com,zoe.ito@example.com,,E3,Zoë Ito,enabled,human,2021-01-01,2026-02-01,totp,,\n\
erp,omar.haddad@example.com,omar.haddad@example.com,,E4,Omar Haddad,enabled,human,2021-01-01,2026-11-20,totp,,\n\
erp,kai.lund@example.com,kai.lund@example.com,,E5,Kai Lund,disabled,human,2020-01-01,2026-06-01,totp,,\n";

const ASSIGNMENTS: &str = "system,account_id,entitlement,privileged,granted_at,granted_by,source\n\
erp,ana.nunez@example.com,GL/close,false,2024-01-01,E0,request\n\
erp,leo.berg@example.com,AP/enter,false,2024-01-01,E1,request\n\
erp,leo.berg@example.com,erp-admin,true,2024-01-01,E1,request\n\
erp,zoe.ito@example.com,AP/enter,false,2024-01-01,E1,request\n\
erp,omar.haddad@example.com,AP/enter,false,2024-01-01,E1,request\n\
erp,kai.lund@example.com,AP/enter,false,2024-01-01,E1,request\n";

use support::{annexa_in as annexa, import_in as import, json_in as json, ok_in as ok};

/// Exit 2, with `expected` in what it says.
fn refused(dir: &Path, db: &str, args: &[&str], expected: &str) {
    let out = annexa(dir, db, args);
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{db} {args:?}: {said}");
    assert!(said.contains(expected), "{db} {args:?}: expected {expected:?} in {said}");
}

fn items(dir: &Path, db: &str, campaign: &str) -> Vec<Value> {
    json(dir, db, &["campaign", "items", campaign]).as_array().expect("items").clone()
}

/// The item of `campaign` about `account`'s `entitlement`.
fn item(items: &[Value], account: &str, entitlement: &str) -> (String, Value) {
    let i = items
        .iter()
        .find(|i| i["account_id"] == account && i["entitlement"] == entitlement)
        .unwrap_or_else(|| panic!("no item for {account} {entitlement}: {items:?}"));
    (i["id"].to_string(), i.clone())
}

fn overdue_count(dir: &Path, db: &str) -> u64 {
    let report = json(dir, db, &["audit", "--check", "certification-overdue"]);
    report["summary"][0]["open"].as_u64().expect("open")
}

#[test]
fn a_campaign_from_the_first_audit_is_reviewed_decided_and_closed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let due = (chrono::Utc::now().date_naive() + chrono::Days::new(30)).to_string();
    for db in annexa_store::testing::fresh_databases(d) {
        let db = db.as_str();
        import(d, db, "hr", HR);
        import(d, db, "accounts", ACCOUNTS);
        import(d, db, "assignments", ASSIGNMENTS);
        // Nothing certified yet: one finding per enabled account with access.
        assert_eq!(overdue_count(d, db), 4, "{db}");

        let create = [
            "campaign",
            "create",
            "--name",
            "First review",
            "--scope",
            "check:certification-overdue",
            "--reviewer",
            "manager",
            "--due",
            &due,
        ];
        // Omar has no manager: without a fallback his item would have no reviewer.
        refused(d, db, &create, "would have no reviewer");
        refused(d, db, &[&create[..], &["--fallback", "E5"]].concat(), "not an active person");
        refused(
            d,
            db,
            &["campaign", "create", "--name", "x", "--scope", "department:", "--reviewer", "manager", "--due", &due],
            "needs a value",
        );
        refused(
            d,
            db,
            &["campaign", "create", "--name", "x", "--scope", "all", "--reviewer", "manager", "--due", "2020-01-01"],
            "not in the future",
        );
        let c = json(d, db, &[&create[..], &["--fallback", "E0"]].concat());
        let first = c["id"].to_string();
        assert_eq!(c["items"], 5, "{db}: the overdue assignments of enabled accounts");
        // The population proof: each import's records read = in scope + inactive + out of scope.
        let imports = c["population"].as_array().expect("population");
        let read: u64 = imports.iter().map(|i| i["read"].as_u64().expect("read")).sum();
        assert_eq!(read, 6, "{db}");
        for i in imports {
            let parts: u64 = ["in_scope", "inactive", "out_of_scope"].iter().map(|k| i[*k].as_u64().expect("count")).sum();
            assert_eq!(i["read"].as_u64(), Some(parts), "{db}: {i}");
        }
        assert_eq!(c["population_hash"].as_str().map(str::len), Some(64), "{db}");

        let all = items(d, db, &first);
        // As CSV: every item, a header and a row each (not the table's page).
        let csv = ok(d, db, &["--format", "csv", "campaign", "items", &first]);
        assert!(csv.starts_with("item,holder,access,priv,"), "{db}: {csv}");
        assert_eq!(csv.lines().count(), all.len() + 1, "{db}: {csv}");
        let (ana, ana_item) = item(&all, "ana.nunez@example.com", "GL/close");
        let (leo_ap, leo_ap_item) = item(&all, "leo.berg@example.com", "AP/enter");
        let (leo_admin, leo_admin_item) = item(&all, "leo.berg@example.com", "erp-admin");
        let (zoe, zoe_item) = item(&all, "zoe.ito@example.com", "AP/enter");
        let (omar, omar_item) = item(&all, "omar.haddad@example.com", "AP/enter");
        assert_eq!(ana_item["reviewer"], "E0", "{db}: Ana's manager");
        assert_eq!(leo_ap_item["reviewer"], "E1", "{db}");
        assert_eq!(omar_item["reviewer"], "E0", "{db}: the fallback");
        assert!(omar_item["reviewer_basis"].as_str().expect("basis").starts_with("fallback"), "{db}");
        assert_eq!(leo_admin_item["privileged"], true, "{db}");
        // Context: Zoë has not signed in since February, so revoking is recommended.
        assert_eq!(zoe_item["recommendation"], "revoke", "{db}: {zoe_item}");
        assert!(zoe_item["recommendation_reason"].as_str().expect("reason").contains("not used since 2026-02-01"), "{db}");
        assert_eq!(leo_ap_item["recommendation"], "certify", "{db}");
        assert_eq!(leo_ap_item["peers"], 3, "{db}: the active Finance clerks");

        // Every rule of a decision.
        refused(d, db, &["campaign", "decide", &ana, "--as", "E1", "--decision", "certify"], "own access");
        refused(d, db, &["campaign", "decide", &leo_ap, "--as", "E0", "--decision", "certify"], "for E1 to review, not E0");
        refused(
            d,
            db,
            &["campaign", "decide", &leo_admin, "--as", "E1", "--decision", "revoke"],
            "privileged access: revoking it needs a comment",
        );
        refused(d, db, &["campaign", "decide", &leo_ap, "999999", "--as", "E1", "--decision", "certify"], "item 999999 does not exist");
        assert_eq!(items(d, db, &first).iter().filter(|i| !i["decision"].is_null()).count(), 0, "{db}: nothing was decided");

        // A revocation becomes a provisioning task (manual: no connector reaches the ERP).
        let done = json(
            d,
            db,
            &["campaign", "decide", &leo_admin, "--as", "E1", "--decision", "revoke", "--comment", "no longer approves payments"],
        );
        assert_eq!(done["tasks"].as_array().map(Vec::len), Some(1), "{db}");
        let tasks = json(d, db, &["provision", "list"]);
        let task = tasks.as_array().expect("tasks").iter().find(|t| t["entitlement"] == "erp-admin").expect("the revocation task").clone();
        assert_eq!((task["action"].as_str(), task["status"].as_str()), (Some("remove-membership"), Some("manual")), "{db}: {task}");
        refused(d, db, &["campaign", "decide", &leo_admin, "--as", "E1", "--decision", "certify"], "already decided");

        // A second campaign over the same access: deciding in one decides the other alike.
        let second = json(
            d,
            db,
            &["campaign", "create", "--name", "ERP", "--scope", "system:erp", "--reviewer", "manager", "--due", &due, "--fallback", "E0"],
        );
        let second_id = second["id"].to_string();
        let (zoe_again, _) = item(&items(d, db, &second_id), "zoe.ito@example.com", "AP/enter");
        let done = json(d, db, &["campaign", "decide", &zoe, "--as", "E1", "--decision", "certify"]);
        assert_eq!(done["also"], serde_json::json!([zoe_again.parse::<i64>().expect("id")]), "{db}");
        refused(d, db, &["campaign", "decide", &zoe_again, "--as", "E1", "--decision", "revoke"], "already decided");

        // Delegation, then concurrent deciders of one item: exactly one decision is recorded.
        let delegated = json(d, db, &["campaign", "delegate", &leo_ap, "--as", "E1", "--to", "E0"]);
        assert_eq!(delegated["delegated"], 1, "{db}: {delegated}");
        refused(d, db, &["campaign", "decide", &leo_ap, "--as", "E1", "--decision", "certify"], "for E0 to review");
        let racers: Vec<std::thread::JoinHandle<Output>> = (0..6)
            .map(|_| {
                let (d, db, item) = (d.to_path_buf(), db.to_string(), leo_ap.clone());
                std::thread::spawn(move || annexa(&d, &db, &["campaign", "decide", &item, "--as", "E0", "--decision", "certify"]))
            })
            .collect();
        let outcomes: Vec<Output> = racers.into_iter().map(|r| r.join().expect("racer")).collect();
        let won = outcomes.iter().filter(|o| o.status.success()).count();
        assert_eq!(won, 1, "{db}: {:?}", outcomes.iter().map(|o| String::from_utf8_lossy(&o.stderr).to_string()).collect::<Vec<_>>());
        assert!(outcomes.iter().filter(|o| !o.status.success()).all(|o| o.status.code() == Some(2)), "{db}");

        // Bulk: the rest of E0's items, with one comment.
        let done = json(
            d,
            db,
            &[
                "campaign",
                "decide",
                "--campaign",
                &first,
                "--all-of-reviewer",
                "--as",
                "E0",
                "--decision",
                "certify",
                "--comment",
                "team list checked",
            ],
        );
        assert_eq!(done["items"].as_array().map(Vec::len), Some(2), "{db}: Ana's and Omar's");

        // Close: certified access is recorded; the next audit sees it.
        let closed = json(d, db, &["campaign", "close", &first]);
        assert_eq!(
            (closed["status"].as_str(), closed["certified"].as_i64(), closed["revoked"].as_i64()),
            (Some("closed"), Some(4), Some(1)),
            "{db}"
        );
        refused(d, db, &["campaign", "close", &first], "already closed");
        refused(d, db, &["campaign", "decide", &omar, "--as", "E0", "--decision", "certify"], "closed");
        // Ana's, Omar's and Zoë's access is certified now. Leo's AP access is too, but his
        // account still holds erp-admin (revoked, not yet carried out): still overdue.
        assert_eq!(overdue_count(d, db), 1, "{db}");

        // The revocation, proven: not judged before an import made after the decision...
        let later = (chrono::Utc::now() + chrono::Days::new(8)).format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let not_fulfilled = |as_of: &str| -> Vec<Value> {
            let report = json(d, db, &["audit", "--as-of", as_of, "--check", "revocation-not-fulfilled"]);
            report["findings"].as_array().expect("findings").clone()
        };
        assert!(not_fulfilled(&later).is_empty(), "{db}: no import since the decision");
        // ...then an import that still holds it, past the 7-day window, is a finding. (Times
        // are kept to the second: the import must come in a later second than the decision.)
        std::thread::sleep(std::time::Duration::from_millis(1100));
        import(d, db, "assignments", ASSIGNMENTS);
        let found = not_fulfilled(&later);
        assert_eq!(found.len(), 1, "{db}: {found:?}");
        assert_eq!(found[0]["subject"]["key"], "erp/leo.berg@example.com/erp-admin", "{db}");
        assert!(found[0]["message"].as_str().expect("message").contains("was revoked in campaign"), "{db}: {}", found[0]);
        // Carried out by hand (no connector), confirmed, and gone from the next import.
        let task = task["id"].to_string();
        ok(d, db, &["provision", "done", &task, "--note", "removed in the ERP, ticket ERP-77"]);
        import(d, db, "assignments", &ASSIGNMENTS.replace("erp,leo.berg@example.com,erp-admin,true,2024-01-01,E1,request\n", ""));
        let report = json(d, db, &["audit", "--as-of", &later, "--check", "revocation-not-fulfilled"]);
        assert_eq!(report["resolved"].as_array().map(Vec::len), Some(1), "{db}: {report}");
        let (_, revoked) = item(&items(d, db, &first), "leo.berg@example.com", "erp-admin");
        assert!(revoked["verified_absent_at"].is_string(), "{db}: {revoked}");

        // The campaign's evidence: each reviewer's diligence, and every decision.
        let report = json(d, db, &["campaign", "report", &first]);
        let by =
            |r: &str| report["diligence"].as_array().expect("diligence").iter().find(|x| x["reviewer"] == r).expect("reviewer").clone();
        let e0 = by("E0");
        assert_eq!((e0["decided"].as_u64(), e0["certified"].as_u64()), (Some(3), Some(3)), "{db}: {e0}");
        assert_eq!(by("E1")["revoked"], 1, "{db}");
        assert_eq!(report["items"].as_array().map(Vec::len), Some(5), "{db}");
        // ...and as a workbook an auditor opens.
        let book_path = d.join("campaign.xlsx");
        ok(d, db, &["campaign", "report", &first, "--out", book_path.to_str().expect("utf8")]);
        {
            use calamine::Reader;
            let mut book: calamine::Xlsx<_> = calamine::open_workbook(&book_path).expect("open");
            assert_eq!(book.sheet_names(), ["Summary", "Population", "Diligence", "Items"], "{db}");
            let items = book.worksheet_range("Items").expect("items");
            assert_eq!(items.height(), 6, "{db}: a header and five items");
            let decisions: Vec<String> = (1..6).map(|r| items.get((r, 11)).map(ToString::to_string).unwrap_or_default()).collect();
            assert_eq!(decisions.iter().filter(|d| *d == "revoke").count(), 1, "{db}: {decisions:?}");
        }
        // ...in the evidence pack, which verifies offline.
        let key = ok(d, db, &["ledger", "key", "show"]);
        let pack = d.join("pack.zip");
        ok(d, db, &["evidence", "pack", "--out", pack.to_str().expect("utf8")]);
        let verified = ok(d, db, &["evidence", "verify", pack.to_str().expect("utf8"), "--key", key.trim()]);
        assert!(!verified.is_empty(), "{db}");
        let mut zip = zip::ZipArchive::new(std::fs::File::open(&pack).expect("pack")).expect("zip");
        let mut text = String::new();
        std::io::Read::read_to_string(&mut zip.by_name("campaigns.json").expect("campaigns.json"), &mut text).expect("read");
        let packed: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(packed[0]["campaign"]["id"].to_string(), first, "{db}: the closed campaign, not the open one");
        std::fs::remove_file(&pack).expect("remove");
        ok(d, db, &["ledger", "verify"]);
    }
}

/// A returned CSV worksheet with `decisions` (item id -> (decision, comment)) filled in.
fn fill_csv(path: &Path, decisions: &[(&str, &str, &str)]) {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_path(path).expect("csv");
    let mut rows: Vec<Vec<String>> = reader.records().map(|r| r.expect("row").iter().map(str::to_string).collect()).collect();
    for row in rows.iter_mut().skip(1) {
        if let Some((_, d, c)) = decisions.iter().find(|(item, _, _)| row[1] == *item) {
            row[12] = d.to_string();
            row[13] = c.to_string();
        }
    }
    let mut out = csv::Writer::from_path(path).expect("csv");
    for row in rows {
        out.write_record(&row).expect("write");
    }
    out.flush().expect("flush");
}

/// A returned XLSX worksheet: rewritten as a reviewer's spreadsheet program would, with
/// `decisions` (item id -> (decision, comment)) filled in, and the access cell of
/// `tampered` (an item id) edited behind the protection.
fn fill_xlsx(path: &Path, decisions: &[(&str, &str, &str)], tampered: Option<&str>) {
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(path).expect("open");
    let range = book.worksheet_range("Review").expect("sheet");
    let mut out = rust_xlsxwriter::Workbook::new();
    let ws = out.add_worksheet();
    ws.set_name("Review").expect("name");
    for (r, row) in range.rows().enumerate() {
        let item = row.get(1).map(ToString::to_string).unwrap_or_default();
        let decided = decisions.iter().find(|(i, _, _)| *i == item);
        for (c, cell) in row.iter().enumerate() {
            let mut text = cell.to_string();
            match (r, c, decided) {
                (0, _, _) => {}
                (_, 12, Some((_, d, _))) => text = d.to_string(),
                (_, 13, Some((_, _, comment))) => text = comment.to_string(),
                (_, 4, _) if tampered == Some(item.as_str()) => text.push_str("-x"),
                _ => {}
            }
            ws.write_string(r as u32, c as u16, text).expect("cell");
        }
    }
    out.save(path).expect("save");
}

#[test]
fn a_returned_worksheet_applies_whole_or_not_at_all() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let due = (chrono::Utc::now().date_naive() + chrono::Days::new(30)).to_string();
    for db in annexa_store::testing::fresh_databases(d) {
        let db = db.as_str();
        import(d, db, "hr", HR);
        import(d, db, "accounts", ACCOUNTS);
        import(d, db, "assignments", ASSIGNMENTS);
        let c = json(
            d,
            db,
            &[
                "campaign",
                "create",
                "--name",
                "Offline",
                "--scope",
                "system:erp",
                "--reviewer",
                "manager",
                "--due",
                &due,
                "--fallback",
                "E0",
            ],
        );
        let id = c["id"].to_string();
        let all = items(d, db, &id);
        let (leo_ap, _) = item(&all, "leo.berg@example.com", "AP/enter");
        let (leo_admin, _) = item(&all, "leo.berg@example.com", "erp-admin");
        let (zoe, _) = item(&all, "zoe.ito@example.com", "AP/enter");
        let csv_path = d.join("e1.csv");
        let csv_file = csv_path.to_str().expect("utf8");
        ok(d, db, &["campaign", "export", &id, "--reviewer", "E1", "--out", csv_file]);

        // A row changed outside the decision cells: the whole file is refused, naming it.
        fill_csv(&csv_path, &[(&zoe, "certify", ""), (&leo_admin, "revoke", "moved to sales")]);
        let text = std::fs::read_to_string(&csv_path).expect("csv");
        std::fs::write(&csv_path, text.replace("erp:AP/enter,no", "erp:AP/view,no")).expect("tamper");
        refused(d, db, &["campaign", "import-decisions", &id, csv_file], "cells other than decision and comment were changed");
        assert!(items(d, db, &id).iter().all(|i| i["decision"].is_null()), "{db}: nothing applied");

        // A clean file applies; the same file again is refused (already decided).
        ok(d, db, &["campaign", "export", &id, "--reviewer", "E1", "--out", csv_file]);
        fill_csv(&csv_path, &[(&zoe, "certify", ""), (&leo_admin, "revoke", "moved to sales")]);
        let done = json(d, db, &["campaign", "import-decisions", &id, csv_file]);
        assert_eq!(done["items"].as_array().map(Vec::len), Some(2), "{db}: {done}");
        assert_eq!(done["tasks"].as_array().map(Vec::len), Some(1), "{db}");
        refused(d, db, &["campaign", "import-decisions", &id, csv_file], "already decided");

        // A row whose item went to another reviewer since the export: refused.
        ok(d, db, &["campaign", "export", &id, "--reviewer", "E1", "--out", csv_file]);
        ok(d, db, &["campaign", "delegate", &leo_ap, "--as", "E1", "--to", "E0"]);
        fill_csv(&csv_path, &[(&leo_ap, "certify", "")]);
        refused(d, db, &["campaign", "import-decisions", &id, csv_file], &format!("item {leo_ap} (row 2) is for E0 to review, not E1"));

        // XLSX: protected, a drop-down for the decision; filled by a reviewer, it applies.
        let xlsx = d.join("e0.xlsx");
        let xlsx_file = xlsx.to_str().expect("utf8");
        ok(d, db, &["campaign", "export", &id, "--reviewer", "E0", "--out", xlsx_file]);
        let mut zip = zip::ZipArchive::new(std::fs::File::open(&xlsx).expect("xlsx")).expect("zip");
        let mut sheet = String::new();
        std::io::Read::read_to_string(&mut zip.by_name("xl/worksheets/sheet1.xml").expect("sheet"), &mut sheet).expect("read");
        assert!(sheet.contains("<sheetProtection") && sheet.contains("<dataValidation"), "{db}: {sheet}");
        // The reviewer's spreadsheet program rewrites the file with the decisions filled in.
        use calamine::Reader;
        let mut book: calamine::Xlsx<_> = calamine::open_workbook(&xlsx).expect("open");
        let range = book.worksheet_range("Review").expect("sheet");
        let mut out = rust_xlsxwriter::Workbook::new();
        let ws = out.add_worksheet();
        ws.set_name("Review").expect("name");
        for (r, row) in range.rows().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let mut text = cell.to_string();
                if r > 0 && c == 12 {
                    text = "certify".into();
                }
                if r > 0 && c == 13 {
                    text = "checked with the team lead".into();
                }
                ws.write_string(r as u32, c as u16, text).expect("cell");
            }
        }
        out.save(&xlsx).expect("save");
        let done = json(d, db, &["campaign", "import-decisions", &id, xlsx_file]);
        assert!(
            done["items"].as_array().is_some_and(|i| i.iter().any(|x| x.as_i64().is_some_and(|n| leo_ap.parse() == Ok(n)))),
            "{db}: {done}"
        );

        // The ERP's latest automatic import failed: the campaign still closes, its items marked.
        let mut store = annexa_store::Store::open(db).expect("open");
        store
            .record_import_failure("scim", "erp", &"0".repeat(64), "erp.jsonl", "line 3: userName is missing", chrono::Utc::now())
            .expect("failure");
        drop(store);
        let closed = json(d, db, &["campaign", "close", &id]);
        assert_eq!(closed["status"], "closed", "{db}");
        let marked = items(d, db, &id);
        assert!(marked.iter().all(|i| i["source_failed"].as_str().is_some_and(|s| s.contains("userName is missing"))), "{db}: {marked:?}");
        ok(d, db, &["ledger", "verify"]);
    }
}

/// The `system-owner` strategy: the owner comes from the configuration's inventory of
/// systems (`[[systems]]`); the owner's own access goes to their manager; a system the
/// inventory does not list has no owner, so its items go to the fallback; a bad inventory
/// is refused, each mistake named.
#[test]
fn system_owners_from_the_inventory_review_their_systems() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let config = d.join("annexa.toml");
    std::fs::write(&config, "[[systems]]\nname = \"erp\"\nowner = \"E2\"\ntier = 1\nclassification = \"confidential\"\n").expect("config");
    let config = config.to_str().expect("utf8").to_string();
    let bad = d.join("bad.toml");
    std::fs::write(&bad, "[[systems]]\nname = \"erp\"\ntier = 7\n\n[[systems]]\nname = \"erp\"\nowner = \" \"\n").expect("config");
    let bad = bad.to_str().expect("utf8").to_string();
    let due = (chrono::Utc::now().date_naive() + chrono::Days::new(30)).to_string();
    for db in annexa_store::testing::fresh_databases(d) {
        let db = db.as_str();
        import(d, db, "hr", HR);
        import(d, db, "accounts", ACCOUNTS);
        import(d, db, "assignments", ASSIGNMENTS);
        let create = |config: &str, name: &str| {
            vec![
                "--config".to_string(),
                config.to_string(),
                "--format".into(),
                "json".into(),
                "campaign".into(),
                "create".into(),
                "--name".into(),
                name.into(),
                "--scope".into(),
                "system:erp".into(),
                "--reviewer".into(),
                "system-owner".into(),
                "--due".into(),
                due.clone(),
                "--fallback".into(),
                "E0".into(),
            ]
        };
        let args = create(&config, "ERP by its owner");
        let created: Value = serde_json::from_str(&ok(d, db, &args.iter().map(String::as_str).collect::<Vec<_>>())).expect("json");
        let listed = items(d, db, &created["id"].to_string());
        assert_eq!(listed.len(), 5, "{db}: every enabled account's erp access: {listed:?}");
        for i in &listed {
            let (reviewer, basis) = (i["reviewer"].as_str(), i["reviewer_basis"].as_str().unwrap_or_default());
            if i["employee_id"] == "E2" {
                // Leo owns the ERP: his own access goes to his manager, Ana.
                assert_eq!(reviewer, Some("E1"), "{db}: {i}");
                assert!(basis.starts_with("manager"), "{db}: {i}");
            } else {
                assert_eq!((reviewer, basis), (Some("E2"), "system-owner"), "{db}: {i}");
            }
        }
        // Without the inventory the ERP has no owner: everything goes to the fallback.
        let args = create("/dev/null", "ERP without an inventory");
        let created: Value = serde_json::from_str(&ok(d, db, &args.iter().map(String::as_str).collect::<Vec<_>>())).expect("json");
        let listed = items(d, db, &created["id"].to_string());
        assert!(listed.iter().all(|i| i["reviewer"] == "E0"), "{db}: {listed:?}");
        let args = create(&bad, "Refused");
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        refused(d, db, &args, "tier 7: expected 1 (most critical) to 4");
        refused(d, db, &args, "system \"erp\" appears twice");
        refused(d, db, &args, "owner is empty");
    }
}

#[test]
fn run_due_opens_recurring_campaigns_and_mover_reviews_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let config = d.join("annexa.toml");
    std::fs::write(
        &config,
        "[campaigns]\nmover_fallback = \"E0\"\n\n[[campaigns.recurring]]\nname = \"Privileged access\"\nscope = [\"privileged\"]\nreviewer = \"manager\"\nfallback = \"E0\"\nevery_days = 91\n",
    )
    .expect("config");
    let config = config.to_str().expect("utf8").to_string();
    let later = (chrono::Utc::now() + chrono::Days::new(31)).format("%Y-%m-%dT%H:%M:%SZ").to_string();
    for db in annexa_store::testing::fresh_databases(d) {
        let db = db.as_str();
        let with_config =
            |args: &[&str]| -> Vec<String> { [&["--config", config.as_str()][..], args].concat().iter().map(|s| s.to_string()).collect() };
        import(d, db, "hr", HR);
        import(d, db, "accounts", ACCOUNTS);
        import(d, db, "assignments", ASSIGNMENTS);
        // Zoë moves from Finance to Sales: her requested AP access is carried over the move.
        import(
            d,
            db,
            "hr",
            &HR.replace("E3,zoe.ito@example.com,Zoë,Ito,Finance,Clerk,E1", "E3,zoe.ito@example.com,Zoë,Ito,Sales,Clerk,E0"),
        );
        let report = json(d, db, &["audit", "--as-of", &later, "--check", "mover-access-review"]);
        let mover_finding = report["findings"][0]["id"].as_str().expect("a mover-access-review finding").to_string();

        let args = with_config(&["--format", "json", "campaign", "run-due"]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let done: Value = serde_json::from_str(&ok(d, db, &args)).expect("json");
        let names: Vec<&str> = done["opened"].as_array().expect("opened").iter().filter_map(|c| c["name"].as_str()).collect();
        assert_eq!(names.len(), 2, "{db}: {done}");
        assert!(names[0].starts_with("Privileged access 20"), "{db}: {names:?}");
        assert_eq!(names[1], "Mover review: E3", "{db}");
        let mover = done["opened"][1]["id"].to_string();
        let (zoe, zoe_item) = item(&items(d, db, &mover), "zoe.ito@example.com", "AP/enter");
        assert_eq!(zoe_item["reviewer"], "E0", "{db}: her new manager");
        // The finding points at its review.
        let shown = json(d, db, &["findings", "show", &mover_finding]);
        assert_eq!(shown["state"], "acknowledged", "{db}");
        assert_eq!(shown["owner"], format!("campaign #{mover}"), "{db}");
        assert!(shown["comments"][0]["text"].as_str().expect("comment").contains(&format!("campaign #{mover}")), "{db}");
        // Nothing is due twice.
        let again: Value = serde_json::from_str(&ok(d, db, &args)).expect("json");
        assert_eq!(again["opened"].as_array().map(Vec::len), Some(0), "{db}: {again}");
        // The review done, the next audit no longer reports the carried-over access.
        ok(
            d,
            db,
            &["campaign", "decide", &zoe, "--as", "E0", "--decision", "certify", "--comment", "still needed in Sales for the handover"],
        );
        ok(d, db, &["campaign", "close", &mover]);
        let report = json(d, db, &["audit", "--as-of", &later, "--check", "mover-access-review"]);
        assert_eq!(report["resolved"], serde_json::json!([mover_finding]), "{db}");
    }
}

#[test]
fn a_revalidation_confirms_an_account_or_disables_it_when_unanswered() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let config = d.join("annexa.toml");
    // Due at once: the second run-due finds it unanswered.
    std::fs::write(
        &config,
        "[campaigns]\nrevalidations = true\nrevalidation_fallback = \"E0\"\nrevalidation_days = 0\nmover_reviews = false\n",
    )
    .expect("config");
    let config = config.to_str().expect("utf8").to_string();
    let accounts = format!("{ACCOUNTS}erp,ghost,ghost,,,Former temp,enabled,human,2020-01-01,2026-11-20,totp,,\n");
    for db in annexa_store::testing::fresh_databases(d) {
        let db = db.as_str();
        import(d, db, "hr", HR);
        import(d, db, "accounts", &accounts);
        import(d, db, "assignments", ASSIGNMENTS);
        let report = json(d, db, &["audit", "--check", "orphaned-account", "--check", "dormant-account"]);
        let finding = |check: &str, subject: &str| {
            report["findings"]
                .as_array()
                .expect("findings")
                .iter()
                .find(|f| f["check"] == check && f["subject"]["key"] == subject)
                .expect("finding")["id"]
                .as_str()
                .expect("id")
                .to_string()
        };
        let ghost = finding("orphaned-account", "erp/ghost");
        let dormant = finding("dormant-account", "erp/zoe.ito@example.com");

        let run_due = ["--config", config.as_str(), "--format", "json", "campaign", "run-due"];
        let done: Value = serde_json::from_str(&ok(d, db, &run_due)).expect("json");
        let opened = done["opened"].as_array().expect("opened");
        assert_eq!(opened.len(), 2, "{db}: {done}");
        let by = |f: &str| opened.iter().find(|c| c["origin"] == format!("revalidation:{f}")).expect("revalidation")["id"].to_string();
        let (ghost_review, dormant_review) = (by(&ghost), by(&dormant));
        // The findings point at their revalidation, owned by its reviewer (the fallback:
        // neither account has an owner, nor its system one).
        let shown = json(d, db, &["findings", "show", &ghost]);
        assert_eq!((shown["state"].as_str(), shown["owner"].as_str()), (Some("acknowledged"), Some("E0")), "{db}: {shown}");
        assert!(shown["comments"][0]["text"].as_str().expect("comment").contains("A.5.16"), "{db}: the control is named");

        // Zoë's account is confirmed, with a justification: the finding is accepted for a year.
        let zoe = items(d, db, &dormant_review)[0]["id"].to_string();
        refused(d, db, &["campaign", "decide", &zoe, "--as", "E0", "--decision", "certify"], "needs a comment");
        ok(d, db, &["campaign", "decide", &zoe, "--as", "E0", "--decision", "certify", "--comment", "seasonal closing work"]);
        let shown = json(d, db, &["findings", "show", &dormant]);
        assert_eq!((shown["state"].as_str(), shown["approver"].as_str()), (Some("accepted"), Some("E0")), "{db}: {shown}");
        assert!(shown["reason"].as_str().expect("reason").contains("seasonal closing work"), "{db}");

        // The ghost account's review goes unanswered past its due date: it is closed and the
        // account's disabling queued (a manual task: no connector reaches the ERP).
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let done: Value = serde_json::from_str(&ok(d, db, &run_due)).expect("json");
        let expired: Vec<String> = done["expired"].as_array().expect("expired").iter().map(|c| c["id"].to_string()).collect();
        assert_eq!(expired, std::slice::from_ref(&ghost_review), "{db}: {done}");
        let tasks = json(d, db, &["provision", "list"]);
        let task = tasks.as_array().expect("tasks").iter().find(|t| t["account_id"] == "ghost").expect("the disabling").clone();
        assert_eq!((task["action"].as_str(), task["status"].as_str()), (Some("disable-account"), Some("manual")), "{db}: {task}");
        // Carried out, imported, audited: the finding is remediated, the disabling verified.
        ok(d, db, &["provision", "done", &task["id"].to_string(), "--note", "disabled in the ERP"]);
        std::thread::sleep(std::time::Duration::from_millis(1100));
        import(d, db, "accounts", &accounts.replace("erp,ghost,ghost,,,Former temp,enabled", "erp,ghost,ghost,,,Former temp,disabled"));
        let report = json(d, db, &["audit", "--check", "orphaned-account"]);
        assert_eq!(report["resolved"], serde_json::json!([ghost]), "{db}");
        let item = &items(d, db, &ghost_review)[0];
        assert!(item["verified_absent_at"].is_string(), "{db}: {item}");
        ok(d, db, &["ledger", "verify"]);
    }
}

/// A listener on loopback that answers each connection with `serve` and keeps what it got.
fn sink(serve: fn(std::net::TcpStream) -> String) -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            let seen = serve(stream);
            kept.lock().expect("lock").push(seen);
        }
    });
    (port, got)
}

/// An SMTP relay that accepts every message.
fn smtp_session(stream: std::net::TcpStream) -> String {
    use std::io::{BufRead, Write};
    let mut reader = std::io::BufReader::new(stream.try_clone().expect("clone"));
    let mut w = stream;
    let mut seen = String::new();
    let _ = w.write_all(b"220 sink\r\n");
    let mut data = false;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        seen.push_str(&line);
        let reply: &[u8] = if data {
            if line != ".\r\n" {
                continue;
            }
            data = false;
            b"250 queued\r\n"
        } else if line.starts_with("DATA") {
            data = true;
            b"354 go on\r\n"
        } else if line.starts_with("QUIT") {
            let _ = w.write_all(b"221 bye\r\n");
            break;
        } else {
            b"250 ok\r\n"
        };
        let _ = w.write_all(reply);
    }
    seen
}

/// A webhook that answers 200 and keeps the request's body.
fn webhook_request(stream: std::net::TcpStream) -> String {
    use std::io::{BufRead, Read, Write};
    let mut reader = std::io::BufReader::new(stream.try_clone().expect("clone"));
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    let mut w = stream;
    let _ = w.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
    String::from_utf8_lossy(&body).into_owned()
}

#[test]
fn reviewers_are_reminded_by_email_and_webhook_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let (smtp_port, mails) = sink(smtp_session);
    let (hook_port, posts) = sink(webhook_request);
    let config = d.join("annexa.toml");
    std::fs::write(
        &config,
        format!(
            "[notifications]\nwebhook_url = \"http://127.0.0.1:{hook_port}/hook\"\nsmtp_host = \"127.0.0.1\"\nsmtp_port = {smtp_port}\n\
             smtp_from = \"annexa@example.com\"\nremind_days_before = [7]\n"
        ),
    )
    .expect("config");
    let config = config.to_str().expect("utf8").to_string();
    let due = (chrono::Utc::now().date_naive() + chrono::Days::new(2)).to_string();
    for db in annexa_store::testing::fresh_databases(d) {
        let db = db.as_str();
        let (mails_before, posts_before) = (mails.lock().expect("lock").len(), posts.lock().expect("lock").len());
        import(d, db, "hr", HR);
        import(d, db, "accounts", ACCOUNTS);
        import(d, db, "assignments", ASSIGNMENTS);
        let c = json(
            d,
            db,
            &[
                "campaign",
                "create",
                "--name",
                "Soon due",
                "--scope",
                "system:erp",
                "--reviewer",
                "manager",
                "--due",
                &due,
                "--fallback",
                "E0",
            ],
        );
        let run_due = ["--config", config.as_str(), "--format", "json", "campaign", "run-due"];
        let done: Value = serde_json::from_str(&ok(d, db, &run_due)).expect("json");
        assert_eq!(done["reminded"].as_array().map(Vec::len), Some(2), "{db}: E0 and E1: {done}");
        assert_eq!(done["not_sent"], serde_json::json!([]), "{db}");
        let got: Vec<String> = mails.lock().expect("lock")[mails_before..].to_vec();
        assert!(got.iter().any(|m| m.contains("RCPT TO:<ana.nunez@example.com>") && m.contains("item(s) to review")), "{db}: {got:?}");
        let hooks: Vec<Value> =
            posts.lock().expect("lock")[posts_before..].iter().map(|b| serde_json::from_str(b).expect("json")).collect();
        assert!(
            hooks.iter().all(|h| h["campaign"] == c["id"] && h["text"].as_str().is_some_and(|t| t.contains("to review by"))),
            "{db}: {hooks:?}"
        );
        // Once each.
        let again: Value = serde_json::from_str(&ok(d, db, &run_due)).expect("json");
        assert_eq!(again["reminded"], serde_json::json!([]), "{db}: {again}");
        ok(d, db, &["ledger", "verify"]);
    }
}

/// The demo organisation end to end: its first audit's `certification-overdue` findings as
/// one campaign; a self-review refused; one reviewer deciding online, another offline with a
/// tampered worksheet refused first; a revocation carried out by hand, confirmed and proven by
/// the next import; another left undone that becomes `revocation-not-fulfilled`; the close
/// lowering `certification-overdue`; the campaign in a verified evidence pack.
#[test]
fn the_demo_organisation_is_reviewed_from_first_audit_to_evidence_pack() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let apps = ["jira", "confluence", "github", "salesforce", "erp"];
    for (n, db) in annexa_store::testing::fresh_databases(d).iter().enumerate() {
        let db = db.as_str();
        let org = d.join(format!("org{n}"));
        let org_dir = org.to_str().expect("utf8");
        ok(d, db, &["demo", "--people", "200", "--out", org_dir]);
        let overdue = |db: &str| -> u64 {
            let r = json(
                d,
                db,
                &["--config", &format!("{org_dir}/annexa.toml"), "audit", "--as-of", "2026-10-01", "--check", "certification-overdue"],
            );
            r["summary"][0]["open"].as_u64().expect("open")
        };
        let before = overdue(db);
        let hr = std::fs::read_to_string(org.join("hr.csv")).expect("hr");
        // A fallback who has a manager of their own, so that nobody is left without a reviewer.
        let fallback =
            hr.lines().skip(1).map(|l| l.split(',').collect::<Vec<_>>()).find(|c| !c[6].is_empty() && c[9] == "active").expect("someone")
                [0]
            .to_string();
        let due = (chrono::Utc::now().date_naive() + chrono::Days::new(30)).to_string();
        let c = json(
            d,
            db,
            &[
                "campaign",
                "create",
                "--name",
                "First review",
                "--scope",
                "check:certification-overdue",
                "--reviewer",
                "manager",
                "--due",
                &due,
                "--fallback",
                &fallback,
            ],
        );
        let id = c["id"].to_string();
        let all = items(d, db, &id);
        assert_eq!(all.len() as u64, c["items"].as_u64().expect("items"), "{db}");
        let in_apps = |i: &&Value| apps.contains(&i["system"].as_str().unwrap_or_default());

        // Nobody decides on their own access.
        let someone = all.iter().find(|i| i["employee_id"].is_string()).expect("an item of a person");
        refused(
            d,
            db,
            &[
                "campaign",
                "decide",
                &someone["id"].to_string(),
                "--as",
                someone["employee_id"].as_str().expect("holder"),
                "--decision",
                "certify",
                "--comment",
                "mine",
            ],
            "own access",
        );

        // Reviewer one, online: revokes an application entitlement.
        let x = all.iter().find(in_apps).expect("an application item").clone();
        let online = x["reviewer"].as_str().expect("reviewer").to_string();
        ok(
            d,
            db,
            &["campaign", "decide", &x["id"].to_string(), "--as", &online, "--decision", "revoke", "--comment", "no longer in the project"],
        );

        // Reviewer two, offline in XLSX: a worksheet with a cell changed behind its protection
        // is refused; the clean one revokes one item and certifies the rest.
        let offline = all
            .iter()
            .filter_map(|i| i["reviewer"].as_str())
            .find(|r| *r != online && all.iter().filter(|i| in_apps(i) && i["reviewer"] == *r).count() >= 1)
            .expect("a second reviewer")
            .to_string();
        let theirs: Vec<&Value> = all.iter().filter(|i| i["reviewer"] == offline.as_str() && i["decision"].is_null()).collect();
        let y = theirs.iter().find(|i| in_apps(i)).expect("an application item of the second reviewer");
        let sheet = d.join(format!("review-{n}.xlsx"));
        let sheet_file = sheet.to_str().expect("utf8");
        let decisions: Vec<(String, &str, &str)> = theirs
            .iter()
            .map(|i| {
                let id = i["id"].to_string();
                if i["id"] == y["id"] {
                    (id, "revoke", "not needed after the reorganisation")
                } else {
                    (id, "certify", "checked with the team")
                }
            })
            .collect();
        let decisions: Vec<(&str, &str, &str)> = decisions.iter().map(|(i, d, c)| (i.as_str(), *d, *c)).collect();
        ok(d, db, &["campaign", "export", &id, "--reviewer", &offline, "--out", sheet_file]);
        fill_xlsx(&sheet, &decisions, Some(&y["id"].to_string()));
        refused(d, db, &["campaign", "import-decisions", &id, sheet_file], "cells other than decision and comment were changed");
        ok(d, db, &["campaign", "export", &id, "--reviewer", &offline, "--out", sheet_file]);
        fill_xlsx(&sheet, &decisions, None);
        ok(d, db, &["campaign", "import-decisions", &id, sheet_file]);

        // The applications have no connector: both revocations are manual tasks. The first is
        // carried out and confirmed; the next export no longer has it.
        let tasks = json(d, db, &["provision", "list"]);
        let task_of = |i: &Value| {
            tasks
                .as_array()
                .expect("tasks")
                .iter()
                .find(|t| t["account_id"] == i["account_id"] && t["entitlement"] == i["entitlement"])
                .expect("a task")
                .clone()
        };
        assert_eq!(task_of(&x)["status"], "manual", "{db}");
        assert_eq!(task_of(y)["status"], "manual", "{db}");
        ok(d, db, &["provision", "done", &task_of(&x)["id"].to_string(), "--note", "removed in the application, ticket APP-1"]);
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let assignments = std::fs::read_to_string(org.join("app-assignments.csv")).expect("assignments");
        let row = format!(
            "{},{},{},",
            x["system"].as_str().expect("s"),
            x["account_id"].as_str().expect("a"),
            x["entitlement"].as_str().expect("e")
        );
        let without: String = assignments.lines().filter(|l| !l.starts_with(&row)).map(|l| format!("{l}\n")).collect();
        assert_eq!(without.lines().count() + 1, assignments.lines().count(), "{db}: one row removed");
        let reimport = d.join(format!("app-assignments-{n}.csv"));
        std::fs::write(&reimport, without).expect("write");
        ok(d, db, &["import", "assignments", reimport.to_str().expect("utf8")]);
        let later = (chrono::Utc::now() + chrono::Days::new(8)).format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let report = json(d, db, &["audit", "--as-of", &later, "--check", "revocation-not-fulfilled"]);
        let subjects: Vec<&str> =
            report["findings"].as_array().expect("findings").iter().filter_map(|f| f["subject"]["key"].as_str()).collect();
        let y_key = format!(
            "{}/{}/{}",
            y["system"].as_str().expect("s"),
            y["account_id"].as_str().expect("a"),
            y["entitlement"].as_str().expect("e")
        );
        assert_eq!(subjects, [y_key.as_str()], "{db}: only the revocation left undone");
        let now_items = items(d, db, &id);
        let x_now = now_items.iter().find(|i| i["id"] == x["id"]).expect("x");
        assert!(x_now["verified_absent_at"].is_string(), "{db}: {x_now}");

        // Closed: the certifications count, and the campaign is in the evidence pack.
        ok(d, db, &["campaign", "close", &id]);
        let after = overdue(db);
        assert!(after < before, "{db}: certification-overdue {before} -> {after}");
        let key = ok(d, db, &["ledger", "key", "show"]);
        let pack = d.join(format!("pack-{n}.zip"));
        ok(d, db, &["--config", &format!("{org_dir}/annexa.toml"), "evidence", "pack", "--out", pack.to_str().expect("utf8")]);
        ok(d, db, &["evidence", "verify", pack.to_str().expect("utf8"), "--key", key.trim()]);

        // Physical access (A.7.2): the badges' zones are reviewed like entitlements, and a
        // revoked zone is a task for whoever runs the badge system (it has no connector).
        let doors = json(
            d,
            db,
            &[
                "campaign",
                "create",
                "--name",
                "Office doors",
                "--scope",
                "system:hq-badges,entitlement:hq-badges:office",
                "--reviewer",
                "manager",
                "--due",
                &due,
                "--fallback",
                &fallback,
            ],
        );
        let zones = items(d, db, &doors["id"].to_string());
        assert!(!zones.is_empty() && zones.iter().all(|i| i["kind"] == "badge-zone" && i["entitlement"] == "office"), "{db}: {zones:?}");
        let zone = zones.iter().find(|i| i["employee_id"] != i["reviewer"]).expect("a zone");
        let revoked = json(
            d,
            db,
            &[
                "campaign",
                "decide",
                &zone["id"].to_string(),
                "--as",
                zone["reviewer"].as_str().expect("reviewer"),
                "--decision",
                "revoke",
                "--comment",
                "moved to the plant",
            ],
        );
        let task = json(d, db, &["provision", "list"])
            .as_array()
            .expect("tasks")
            .iter()
            .find(|t| t["id"] == revoked["tasks"][0])
            .expect("the task")
            .clone();
        assert_eq!(
            (task["system"].as_str(), task["action"].as_str(), task["entitlement"].as_str(), task["status"].as_str()),
            (Some("hq-badges"), Some("remove-membership"), Some("office"), Some("manual")),
            "{db}: {task}"
        );
        ok(d, db, &["ledger", "verify"]);
    }
}
