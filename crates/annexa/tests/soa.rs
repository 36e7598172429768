//! The Statement of Applicability end to end through the CLI, on SQLite and PostgreSQL: all
//! 93 controls and the clauses, automated controls following the audit, bad edits refused
//! whole with nothing changed, approval refused while a control is undecided, two approved
//! versions compared, and the XLSX an auditor opens (sheets, frozen header, filters,
//! widths, colours) read back.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

mod support;

use serde_json::Value;
use std::io::Read;
use std::path::Path;
use support::{annexa_in as annexa, import_in as import, json_in as json, ok_in as ok};

const HR: &str = "employee_id,email,given_name,family_name,department,title,manager_id,location,worker_type,status,start_date,end_date\n\
E1,ana.nunez@example.com,Ana,Núñez,IT/Ops,CISO,,Madrid,employee,active,2019-01-01,\n\
E2,leo.berg@example.com,Leo,Berg,Finance,Clerk,E1,Madrid,employee,terminated,2020-01-01,2026-09-01\n";

const ACCOUNTS: &str =
    "system,account_id,username,email,employee_id,display_name,status,type,created_at,last_login_at,mfa,password_last_set_at,owner\n\
erp,ana.nunez@example.com,ana.nunez@example.com,,E1,Ana Núñez,enabled,human,2020-01-01,2026-11-20,webauthn,,\n\
erp,leo.berg@example.com,leo.berg@example.com,,E2,Leo Berg,enabled,human,2020-01-01,2026-08-20,totp,,\n";

fn row<'a>(view: &'a Value, control: &str) -> &'a Value {
    view["rows"].as_array().expect("rows").iter().find(|r| r["control"] == control).unwrap_or_else(|| panic!("no row {control}"))
}

fn state(dir: &Path, db: &str) -> (Value, String) {
    let ledger = ok(dir, db, &["ledger", "verify"]).split(',').next().expect("count").to_string();
    (json(dir, db, &["soa", "show"]), ledger)
}

fn refused(dir: &Path, db: &str, args: &[&str], expected: &str) {
    let before = state(dir, db);
    let out = annexa(dir, db, args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(stderr.contains(expected), "{args:?}: {stderr}");
    assert_eq!(state(dir, db), before, "{args:?} changed nothing");
}

#[test]
fn the_soa_is_kept_approved_compared_and_exported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    for db in annexa_store::testing::fresh_databases(d) {
        let db = db.as_str();
        import(d, db, "hr", HR);
        import(d, db, "accounts", ACCOUNTS);
        ok(d, db, &["audit", "--as-of", "2026-12-01T00:00:00Z"]);

        let view = json(d, db, &["soa", "show"]);
        let rows = view["rows"].as_array().expect("rows");
        assert_eq!(rows.iter().filter(|r| r["theme"] != "Clause").count(), 93);
        assert_eq!(rows.iter().filter(|r| r["theme"] == "Clause").count(), 25);
        // A.5.18 is tested by leaver-access, which found the leaver's account: the audit
        // says it is partly implemented, and which run said so.
        let access = row(&view, "A.5.18");
        assert_eq!(access["status"], "partial");
        assert!(access["status_source"].as_str().expect("source").starts_with("audit run #1"), "{access:#}");
        let leaver = access["checks"].as_array().expect("checks").iter().find(|c| c["check"] == "leaver-access").expect("leaver-access");
        assert_eq!((leaver["result"].as_str(), leaver["open_findings"].as_i64()), (Some("failed"), Some(1)));
        assert_eq!(access["evidence"][0]["kind"], "audit-run");
        assert!(access["evidence"][0]["checkpoint"].as_u64().is_some(), "the run's entry is under a signed checkpoint");
        // A.8.5 is tested by MFA checks, which passed: implemented.
        assert_eq!(row(&view, "A.8.5")["status"], "implemented");

        // The same evidence seen through another framework: SOC 2's CC1.5 is A.6.5 (the
        // leaver kept access), NIST CSF's PR.AA-03 is A.8.5 (MFA checks passed).
        let soc2 = json(d, db, &["controls", "status", "--framework", "soc2"]);
        let req =
            |all: &Value, id: &str| all.as_array().expect("list").iter().find(|r| r["requirement"] == id).cloned().expect("requirement");
        let cc15 = req(&soc2, "CC1.5");
        assert_eq!(cc15["result"], "failed");
        assert_eq!(cc15["controls"][0]["control"], "A.6.5");
        assert_eq!(req(&json(d, db, &["controls", "status", "--framework", "nist-csf"]), "PR.AA-03")["result"], "passed");
        assert!(json(d, db, &["controls", "status", "--framework", "cis"])
            .as_array()
            .expect("list")
            .iter()
            .any(|r| r["requirement"] == "6.2"));
        let out = annexa(d, db, &["controls", "status", "--framework", "pci"]);
        assert_eq!(out.status.code(), Some(2));

        // Bad edits: refused whole, nothing changed.
        refused(d, db, &["soa", "set", "A.8.28", "--applicable", "no"], "excluding A.8.28 needs a justification");
        refused(d, db, &["soa", "set", "A.8.28", "--applicable", "no", "--justification", "N/A"], "does not justify excluding A.8.28");
        refused(d, db, &["soa", "set", "A.5.15", "A.99.1", "--applicable", "yes", "--reason", "regulatory"], "\"A.99.1\" is neither");
        refused(d, db, &["soa", "set", "A.5.15", "--applicable", "yes"], "including A.5.15 needs a reason");
        refused(
            d,
            db,
            &["soa", "set", "6.1.2", "--applicable", "no", "--justification", "We do not assess risks at all here"],
            "is mandatory",
        );
        refused(d, db, &["soa", "approve", "--approver", "E1"], "93 control(s) are undecided");

        // Decide: two by hand (a 2013 id names its 2022 control), the rest in one go.
        let set = json(
            d,
            db,
            &[
                "soa",
                "set",
                "A.9.2.1",
                "A.5.18",
                "--applicable",
                "yes",
                "--reason",
                "regulatory",
                "--reason",
                "risk-assessment",
                "--owner",
                "E1",
            ],
        );
        let controls: Vec<&str> = set.as_array().expect("rows").iter().map(|r| r["control"].as_str().expect("id")).collect();
        assert_eq!(controls, ["A.5.16", "A.5.18"]);
        let undecided: Vec<String> = json(d, db, &["soa", "show"])["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .filter(|r| r["theme"] != "Clause" && r["applicable"].is_null())
            .map(|r| r["control"].as_str().expect("id").to_string())
            .collect();
        assert_eq!(undecided.len(), 91);
        let mut args: Vec<&str> = vec!["soa", "set"];
        args.extend(undecided.iter().map(String::as_str));
        args.extend(["--applicable", "yes", "--reason", "best-practice"]);
        ok(d, db, &args);
        ok(d, db, &["soa", "set", "5.2", "--status", "implemented", "--document", "ISMS-POL-001 Information security policy v3"]);
        let v1 = json(d, db, &["soa", "approve", "--approver", "E1", "--note", "first SoA"]);
        assert_eq!(v1["version"], 1);
        // (By prefix: the approval's date is the clock's, and a test may run over midnight.)
        let approved = |v: &Value, control: &str, version: u32| {
            row(v, control)["approval"].as_str().is_some_and(|a| a.starts_with(&format!("version {version}, approved by E1 on ")))
        };
        assert!(approved(&json(d, db, &["soa", "show", "--control", "A.8.28"]), "A.8.28", 1));
        refused(d, db, &["soa", "approve", "--approver", "E1"], "nothing changed since the latest approved version");

        // A change after approval is listed, and becomes version 2.
        let why = "No software is developed in house; every application is bought as SaaS";
        ok(d, db, &["soa", "set", "A.8.28", "--applicable", "no", "--justification", why]);
        let pending = json(d, db, &["soa", "show"]);
        assert_eq!(row(&pending, "A.8.28")["approval"], "changed since version 1, not yet approved");
        assert!(approved(&pending, "A.5.15", 1), "an unchanged row stays approved");
        let diff = json(d, db, &["soa", "diff"]);
        let changes: Vec<(String, String, String)> = diff["changes"]
            .as_array()
            .expect("changes")
            .iter()
            .map(|c| {
                (
                    format!("{} {}", c["control"].as_str().unwrap(), c["field"].as_str().unwrap()),
                    c["from"].as_str().unwrap().into(),
                    c["to"].as_str().unwrap().into(),
                )
            })
            .collect();
        assert_eq!(
            changes,
            [
                ("A.8.28 applicable".to_string(), "yes".to_string(), "no".to_string()),
                ("A.8.28 reasons".to_string(), "best-practice".to_string(), String::new()),
                ("A.8.28 justification".to_string(), String::new(), why.to_string()),
            ]
        );
        json(d, db, &["soa", "approve", "--approver", "E1"]);
        let between = json(d, db, &["soa", "diff", "--from", "1", "--to", "2"]);
        assert_eq!(between["changes"], diff["changes"]);
        assert_eq!(json(d, db, &["soa", "versions"]).as_array().expect("versions").len(), 2);

        // The workbook an auditor opens.
        let xlsx = d.join("SoA.xlsx");
        ok(d, db, &["soa", "export", "--format", "xlsx", "--out", xlsx.to_str().expect("utf8")]);
        use calamine::Reader;
        let mut book: calamine::Xlsx<_> = calamine::open_workbook(&xlsx).expect("open");
        assert_eq!(book.sheet_names(), ["Statement of Applicability", "Summary", "Clauses 4-10"]);
        let soa = book.worksheet_range("Statement of Applicability").expect("soa");
        assert_eq!(soa.height(), 94, "a header and 93 controls");
        assert_eq!(soa.get((0, 0)).map(ToString::to_string).as_deref(), Some("Control"));
        let excluded = (1..94).find(|r| soa.get((*r, 0)).map(ToString::to_string).as_deref() == Some("A.8.28")).expect("A.8.28");
        assert_eq!(soa.get((excluded, 5)).map(ToString::to_string).as_deref(), Some(why));
        assert_eq!(soa.get((excluded, 6)).map(ToString::to_string).as_deref(), Some("n/a"));
        assert_eq!(soa.get((0, 14)).map(ToString::to_string).as_deref(), Some("Approval"));
        assert!(soa.get((excluded, 14)).map(ToString::to_string).is_some_and(|a| a.starts_with("version 2, approved by E1 on ")));
        let summary = book.worksheet_range("Summary").expect("summary");
        let all = (1..summary.height() as u32)
            .find(|r| summary.get((*r as usize, 0)).map(ToString::to_string).as_deref() == Some("All"))
            .expect("All");
        let count = |c: usize| summary.get((all as usize, c)).map(ToString::to_string);
        assert_eq!((count(1).as_deref(), count(2).as_deref(), count(3).as_deref()), (Some("93"), Some("92"), Some("1")));
        assert_eq!(book.worksheet_range("Clauses 4-10").expect("clauses").height(), 26);
        // What calamine does not read: the frozen header and first column, the filter,
        // the widths, wrapping and the status colours.
        let mut zip = zip::ZipArchive::new(std::fs::File::open(&xlsx).expect("open")).expect("zip");
        let mut sheet = String::new();
        zip.by_name("xl/worksheets/sheet1.xml").expect("sheet1").read_to_string(&mut sheet).expect("read");
        assert!(sheet.contains("<pane xSplit=\"1\" ySplit=\"1\""), "frozen header and first column");
        assert!(sheet.contains("<autoFilter ref=\"A1:O94\""), "filters");
        assert!(sheet.contains("<cols>"), "column widths");
        let mut styles = String::new();
        zip.by_name("xl/styles.xml").expect("styles").read_to_string(&mut styles).expect("read");
        for colour in ["FFC6EFCE", "FFFFEB9C", "FFD9D9D9"] {
            assert!(styles.contains(colour), "status colour {colour}");
        }
        assert!(styles.contains("wrapText=\"1\""));

        // CSV and HTML: the same rows; the page is self-contained and escapes what it shows.
        let csv = d.join("soa.csv");
        ok(d, db, &["soa", "export", "--out", csv.to_str().expect("utf8")]);
        let records = csv::Reader::from_path(&csv).expect("csv").records().count();
        assert_eq!(records, 93 + 25, "a record per control and clause, after the header");
        ok(d, db, &["soa", "set", "A.5.1", "--implementation", "<script>alert(1)</script> board-approved policy"]);
        let html = d.join("soa.html");
        ok(d, db, &["--format", "html", "soa", "export", "--out", html.to_str().expect("utf8")]);
        let page = std::fs::read_to_string(&html).expect("html");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !page.contains("<script>"));
        assert!(!page.contains("http://") && !page.contains("https://"), "no external request");
        let out = annexa(d, db, &["--format", "json", "soa", "export", "--out", "x.json"]);
        assert_eq!(out.status.code(), Some(2));
        ok(d, db, &["ledger", "verify"]);
    }
}
