//! `annexa import --lenient`, end to end through the real binary: the good rows are
//! imported, every refused row is listed in a quarantine report (CSV, safe to open in a
//! spreadsheet), and the import records how many rows it refused and the report's SHA-256,
//! in `annexa imports` and in its ledger entry. Without `--lenient`, or when the problem is
//! the file's own (its header, its encoding, no data), the file is refused whole and the
//! database is byte for byte what it was.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

const HR_HEADER: &str =
    "employee_id,email,given_name,family_name,department,title,manager_id,location,worker_type,status,start_date,end_date";

mod sandbox;
use sandbox::{stderr, Sandbox};

/// What these tests ask of a sandbox beyond running annexa.
trait Lenient {
    fn json(&self, args: &[&str]) -> serde_json::Value;
    fn people(&self) -> Vec<String>;
    fn ledger_import(&self, id: i64) -> serde_json::Value;
    fn reports(&self) -> Vec<PathBuf>;
}

impl Lenient for Sandbox {
    fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["--format", "json"];
        all.extend_from_slice(args);
        let out = self.annexa(&all);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        serde_json::from_slice(&out.stdout).expect("JSON")
    }

    fn people(&self) -> Vec<String> {
        let c = rusqlite::Connection::open(self.path("a.db")).expect("sqlite");
        let mut q = c.prepare("SELECT employee_id FROM people ORDER BY employee_id").expect("query");
        q.query_map([], |r| r.get(0)).expect("rows").map(|r| r.expect("row")).collect()
    }

    /// The ledger entry of import `id`.
    fn ledger_import(&self, id: i64) -> serde_json::Value {
        for seq in 0.. {
            let out = self.annexa(&["ledger", "show", &seq.to_string()]);
            assert!(out.status.success(), "no ledger entry for import {id}: {}", stderr(&out));
            let shown: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
            let entry = &shown["entry"];
            if entry["kind"] == "import" && entry["data"]["import_id"] == id {
                return entry["data"].clone();
            }
        }
        unreachable!()
    }

    /// The quarantine reports written beside the database.
    fn reports(&self) -> Vec<PathBuf> {
        let mut found: Vec<PathBuf> = match std::fs::read_dir(self.path("a.db.quarantine")) {
            Ok(dir) => dir.map(|e| e.expect("entry").path()).collect(),
            Err(_) => Vec::new(),
        };
        found.sort();
        found
    }
}

fn csv(header: &str, rows: &[&str]) -> String {
    let mut text = header.to_string();
    for row in rows {
        text.push('\n');
        text.push_str(row);
    }
    text.push('\n');
    text
}

fn sha256(path: &Path) -> String {
    Sha256::digest(std::fs::read(path).expect("read")).iter().map(|b| format!("{b:02x}")).collect()
}

/// Rows 3, 5 and 6 are bad: an unknown status, a truncated row, a duplicate key whose
/// value would be a formula in a spreadsheet. Row 4 is a rehire (warned, imported).
fn hr_with_bad_rows() -> String {
    csv(
        HR_HEADER,
        &[
            "E1,ada@example.com,Ada,Lovelace,Eng,CTO,,London,employee,active,2020-01-01,",
            "E2,bob@example.com,Bob,Byte,Eng,Dev,E1,London,employee,retired,2021-03-01,",
            "E3,cy@example.com,Cy,Sea,Eng,Dev,E1,London,employee,active,2024-05-01,2021-02-28",
            "E4,dee@exa",
            "=E1+1,eve@example.com,Eve,Vil,Eng,Dev,E1,London,employee,active,2020-01-01,",
            "=E1+1,fay@example.com,Fay,Vil,Eng,Dev,E1,London,employee,active,2020-01-01,",
        ],
    )
}

#[test]
fn a_lenient_import_quarantines_bad_rows_and_records_the_report() {
    let sandbox = Sandbox::new();
    let file = sandbox.write("hr.csv", hr_with_bad_rows());
    let out = sandbox.import("hr", &file, &["--lenient"]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains(&format!(
            "warning: {}:4: column `end_date`: end date 2021-02-28 is before start date 2024-05-01 of a person who is active",
            file.display()
        )),
        "{err}"
    );
    let reports = sandbox.reports();
    assert_eq!(reports.len(), 1, "{err}");
    let report = &reports[0];
    assert!(report.file_name().expect("name").to_string_lossy().ends_with("-hr.csv"), "{}", report.display());
    assert!(err.contains(&format!("imported 3 people from {}", file.display())), "{err}");
    assert!(err.contains("; refused 3 rows (quarantine report "), "{err}");
    assert!(err.contains(&report.file_name().expect("name").to_string_lossy().to_string()), "{err}");

    let text = std::fs::read_to_string(report).expect("report");
    let f = file.display();
    assert_eq!(
        text,
        format!(
            "file,line,column,value,reason\n\
             {f},3,status,retired,\"unknown value \"\"retired\"\": expected one of active, leave, terminated\"\n\
             {f},5,,\"E4,dee@exa\",\"expected 12 fields as in the header, found 2 (truncated row?)\"\n\
             {f},7,employee_id,'=E1+1,\"duplicate employee_id \"\"=E1+1\"\": already on line 6; each must appear once\"\n"
        )
    );
    assert_eq!(sandbox.people(), ["=E1+1", "E1", "E3"]);

    let imports = sandbox.json(&["imports"]);
    let import = &imports[0];
    assert_eq!((import["refused"].as_str(), import["rows"].as_str()), (Some("3"), Some("6")), "{imports}");
    assert_eq!(import["quarantine_sha256"].as_str(), Some(sha256(report).as_str()), "{imports}");
    let entry = sandbox.ledger_import(1);
    assert_eq!(entry["refused"], 3, "{entry}");
    assert_eq!(entry["quarantine"]["sha256"].as_str(), Some(sha256(report).as_str()), "{entry}");
    assert_eq!(entry["records"]["people"], 3, "{entry}");

    // A strict import of the same file changes nothing.
    let before = sandbox.bytes();
    let out = sandbox.import("hr", &file, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains(&format!("{f}:3: column `status`: unknown value \"retired\"")), "{}", stderr(&out));
    assert_eq!(sandbox.bytes(), before, "a strict refusal leaves the database as it was");
    assert_eq!(sandbox.reports().len(), 1, "and writes no report");
}

#[test]
fn the_report_goes_where_quarantine_says() {
    let sandbox = Sandbox::new();
    let file = sandbox.write("hr.csv", hr_with_bad_rows());
    let target = sandbox.path("refused.csv");
    let out = sandbox.import("hr", &file, &["--lenient", "--quarantine", target.to_str().expect("UTF-8")]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(sandbox.reports().is_empty());
    assert_eq!(std::fs::read_to_string(&target).expect("report").lines().count(), 4);
    assert_eq!(sandbox.json(&["imports"])[0]["quarantine_file"].as_str(), target.to_str());
    // --quarantine means nothing without --lenient.
    let out = sandbox.import("hr", &file, &["--quarantine", "x.csv"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--lenient"), "{}", stderr(&out));
}

#[test]
fn a_problem_of_the_file_refuses_it_even_when_lenient() {
    let sandbox = Sandbox::new();
    let valid = sandbox.write("valid.csv", csv(HR_HEADER, &["E1,ada@example.com,Ada,L,Eng,CTO,,London,employee,active,2020-01-01,"]));
    assert!(sandbox.import("hr", &valid, &[]).status.success());
    let before = sandbox.bytes();
    let rows = ["E2,bob@example.com,Bob,B,Eng,Dev,E1,London,employee,active,2020-01-01,"];
    for (case, kind, content, fragment) in [
        ("empty file", "hr", String::new(), "the file is empty"),
        (
            "missing column",
            "hr",
            csv(&HR_HEADER.replace(",status", ""), &["E2,b@x.io,B,B,Eng,Dev,,L,employee,2020-01-01,"]),
            "missing column(s) status",
        ),
        (
            "duplicate column",
            "hr",
            csv(&format!("{HR_HEADER},Status"), &[&format!("{},active", rows[0])]),
            "duplicate column in the header",
        ),
        (
            "every row refused",
            "hr",
            csv(HR_HEADER, &["E2,bob@example.com,Bob,B,Eng,Dev,E1,London,employee,retired,2020-01-01,"]),
            "no records",
        ),
        ("a change log", "ldif", "dn: cn=a,dc=x\nchangetype: modify\n".to_string(), "LDIF change records (changetype: modify)"),
    ]
    .into_iter()
    .map(|(case, kind, text, fragment)| (case, kind, text.into_bytes(), fragment))
    .chain([
        ("not UTF-8 (SCIM)", "scim", b"{}\n\xff".to_vec(), "the file is not UTF-8"),
        ("UTF-16 (LDIF)", "ldif", b"\xFF\xFEd\0n\0".to_vec(), "UTF-16"),
    ]) {
        let file = sandbox.write(&format!("{}.txt", case.replace(' ', "-")), &content);
        let out = sandbox.import(kind, &file, &["--lenient", "--system", if kind == "hr" { "" } else { "x" }]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{case}: {err}");
        assert!(err.contains(fragment), "{case}: {err}");
        assert_eq!(sandbox.bytes(), before, "{case}: the database changed");
        assert!(sandbox.reports().is_empty(), "{case}: a report was left behind");
    }
}

#[test]
fn a_person_whose_row_is_refused_keeps_their_previous_record() {
    let sandbox = Sandbox::new();
    let ada = "E1,ada@example.com,Ada,Lovelace,Eng,CTO,,London,employee,active,2020-01-01,";
    let bob = "E2,bob@example.com,Bob,Byte,Eng,Dev,E1,London,employee,active,2021-03-01,";
    let first = sandbox.write("hr1.csv", csv(HR_HEADER, &[ada, bob]));
    assert!(sandbox.import("hr", &first, &[]).status.success());
    let second = sandbox.write("hr2.csv", csv(HR_HEADER, &[ada, &bob.replace("2021-03-01", "03/01/2021")]));
    let out = sandbox.import("hr", &second, &["--lenient"]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains(&format!("{}:3: the row of E2 is refused; their previous record is kept", second.display())), "{err}");
    assert_eq!(sandbox.people(), ["E1", "E2"]);
    // Bob did not leave: no lifecycle event.
    let events = sandbox.json(&["jml", "list"]);
    assert_eq!(events.as_array().map(Vec::len), Some(0), "{events}");
}

#[test]
fn every_row_based_importer_is_lenient() {
    let accounts_header =
        "system,account_id,username,email,employee_id,display_name,status,type,created_at,last_login_at,mfa,password_last_set_at,owner";
    let aws = annexa_connect::aws::REQUIRED.join(",");
    let aws_row = |user: &str, mfa: &str| {
        annexa_connect::aws::REQUIRED
            .iter()
            .map(|c| match *c {
                "user" => user.to_string(),
                "arn" => format!("arn:aws:iam::1:user/{user}"),
                "user_creation_time" => "2019-03-01T10:00:00+00:00".to_string(),
                "mfa_active" => mfa.to_string(),
                c if c.ends_with("_active") || c == "password_enabled" => "false".to_string(),
                _ => "N/A".to_string(),
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    let user =
        |id: &str, name: &str| format!(r#"{{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"{id}","userName":"{name}"}}"#);
    let cases: Vec<(&str, String, u64)> = vec![
        ("accounts", csv(accounts_header, &["x,u1,ada,,,Ada,enabled,human,,,,,", "x,u2,bob,,,Bob,enabled,robot,,,,,"]), 3),
        (
            "assignments",
            csv("system,account_id,entitlement,privileged,granted_at,granted_by,source", &["x,u1,a,false,,,", "x,u1,b,maybe,,,"]),
            3,
        ),
        ("badges", csv("badge_id,employee_id,status,last_used_at,zones", &["B1,E1,active,,", "B2,E2,melted,,"]), 3),
        ("aws-credential-report", csv(&aws, &[&aws_row("alice", "true"), &aws_row("bob", "yes")]), 3),
        (
            "ldif",
            "dn: uid=a,dc=x\nobjectClass: account\nuid: a\n\ndn: uid=b,dc=x\nobjectClass: account\nuid: b\ncreateTimestamp: soon\n".into(),
            8,
        ),
        ("scim", format!("{}\n{}\n", user("1", "ada"), user("1", "bob")), 2),
    ];
    for (kind, content, line) in cases {
        let sandbox = Sandbox::new();
        let file = sandbox.write("in.txt", &content);
        let out = sandbox.import(kind, &file, &["--lenient", "--system", "x"]);
        assert!(out.status.success(), "{kind}: {}", stderr(&out));
        let reports = sandbox.reports();
        assert_eq!(reports.len(), 1, "{kind}");
        let report = std::fs::read_to_string(&reports[0]).expect("report");
        let lines: Vec<&str> = report.lines().collect();
        assert_eq!(lines.len(), 2, "{kind}: {report}");
        assert!(lines[1].starts_with(&format!("{},{line},", file.display())), "{kind}: {report}");
        assert_eq!(sandbox.json(&["imports"])[0]["refused"].as_str(), Some("1"), "{kind}");
    }
}
