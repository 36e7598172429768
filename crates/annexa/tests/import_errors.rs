//! Bad input, end to end: every importer, run through the real `annexa` binary, refuses a
//! broken file with exit code 2 and one short message naming the file, the line and what
//! was expected — never a panic or a backtrace — and leaves the database exactly as it was.
//!
//! Each kind has a table `(case, file content, line in the message, message fragment)`
//! that reads as the specification of what the importer rejects and how it says so.
//! Line 0 means "the file as a whole" (an empty file, a bad column mapping).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

use std::path::Path;
use std::process::Output;

/// `(case name, file content, expected line, expected message fragment)`.
type Case = (&'static str, Vec<u8>, u64, &'static str);

/// A value far beyond any field limit (CSV: 64 KiB, LDIF: 1 MiB).
fn ten_mb() -> String {
    "x".repeat(10 * 1024 * 1024)
}

/// `header` and `rows`, one per line, `\n`-terminated.
fn csv(header: &str, rows: &[&str]) -> Vec<u8> {
    let mut text = String::from(header);
    for row in rows {
        text.push('\n');
        text.push_str(row);
    }
    text.push('\n');
    text.into_bytes()
}

/// Like [`csv`], with lines ending in `\r\n`.
fn csv_crlf(header: &str, rows: &[&str]) -> Vec<u8> {
    String::from_utf8(csv(header, rows)).expect("text").replace('\n', "\r\n").into_bytes()
}

/// Lines joined with `\n` (for LDIF), `\n`-terminated.
fn text(lines: &[&str]) -> Vec<u8> {
    let mut t = lines.join("\n");
    t.push('\n');
    t.into_bytes()
}

mod sandbox;
use sandbox::{stderr, Sandbox};

/// What must not change when an import is refused.
#[derive(PartialEq, Eq)]
struct DbState {
    /// `annexa imports --format csv`.
    imports: String,
    /// The SQLite file's bytes (and its WAL, if one is left behind).
    files: Vec<Option<Vec<u8>>>,
}

impl std::fmt::Debug for DbState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sizes: Vec<Option<usize>> = self.files.iter().map(|b| b.as_ref().map(Vec::len)).collect();
        write!(f, "imports:\n{}files: {sizes:?}", self.imports)
    }
}

/// The state of a sandbox's database that a refused import must leave as it was.
fn state(sandbox: &Sandbox) -> DbState {
    let out = sandbox.annexa(&["imports", "--format", "csv"]);
    assert!(out.status.success(), "annexa imports failed: {}", stderr(&out));
    DbState { imports: String::from_utf8(out.stdout).expect("UTF-8 listing"), files: sandbox.bytes() }
}

/// What is wrong with a refused import's outcome, if anything: exit code 2, the message
/// names `file:line:` and contains `fragment`, no panic, nothing on stdout.
fn refusal_problems(out: &Output, file: &Path, line: u64, fragment: &str) -> Vec<String> {
    let err = stderr(out);
    let mut problems = Vec::new();
    if out.status.code() != Some(2) {
        problems.push(format!("exit code {:?}, expected 2", out.status.code()));
    }
    let location = format!("{}:{line}:", file.display());
    if !err.contains(&location) {
        problems.push(format!("stderr lacks the location `{location}`"));
    }
    if !err.contains(fragment) {
        problems.push(format!("stderr lacks {fragment:?}"));
    }
    if err.contains("panicked") || err.contains("RUST_BACKTRACE") {
        problems.push("a panic".to_string());
    }
    if err.len() > 4096 {
        problems.push(format!("a {}-byte message (echoing the input?)", err.len()));
    }
    if !out.stdout.is_empty() {
        problems.push(format!("stdout not empty: {:?}", String::from_utf8_lossy(&out.stdout)));
    }
    if problems.is_empty() {
        return problems;
    }
    let shown: String = err.chars().take(600).collect();
    problems.push(format!("stderr was: {shown}"));
    problems
}

/// Imports `valid` (it must succeed, so the database holds a snapshot), then every case
/// of `cases` (each must be refused as its row says, the database left untouched).
/// `extra` is appended to every `annexa import` (e.g. `--system x`).
fn check_refusals(kind: &str, ext: &str, extra: &[&str], valid: &[u8], cases: Vec<Case>) {
    let sandbox = Sandbox::new();
    let valid_path = sandbox.write(&format!("valid.{ext}"), valid);
    let out = sandbox.import(kind, &valid_path, extra);
    assert!(out.status.success(), "{kind}: the valid file is refused: {}", stderr(&out));
    let before = state(&sandbox);
    assert_eq!(before.imports.lines().count(), 2, "{kind}: one import on record:\n{}", before.imports);
    assert!(before.imports.contains(&format!(",{kind},")), "{kind}: {}", before.imports);

    let mut failures = Vec::new();
    let mut names = std::collections::HashSet::new();
    for (i, (case, bytes, line, fragment)) in cases.iter().enumerate() {
        assert!(names.insert(*case), "{kind}: case {case:?} listed twice");
        let slug: String = case.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
        let path = sandbox.write(&format!("{kind}-{i:02}-{slug}.{ext}"), bytes);
        let out = sandbox.import(kind, &path, extra);
        let mut problems = refusal_problems(&out, &path, *line, fragment);
        // Free the disk early: some cases are 10 MB.
        std::fs::remove_file(&path).expect("remove test file");
        let after = state(&sandbox);
        if after != before {
            problems.push(format!("the database changed:\nbefore {before:?}\nafter {after:?}"));
        }
        if !problems.is_empty() {
            failures.push(format!("{kind} / {case}:\n  {}", problems.join("\n  ")));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

// ----------------------------------------------------------------------------- HR

const HR_HEADER: &str =
    "employee_id,email,given_name,family_name,department,title,manager_id,location,worker_type,status,start_date,end_date";
const HR_ADA: &str = "E1,ada@example.com,Ada,Lovelace,Engineering,CTO,,London,employee,active,2020-01-01,";
const HR_BOB: &str = "E2,bob@example.com,Bob,Byte,Engineering,Dev,E1,London,contractor,terminated,2021-03-01,2024-02-29";

#[test]
fn hr_bad_input_is_refused() {
    let big_title = format!("E3,cy@example.com,Cy,Long,Engineering,{},E1,London,employee,active,2022-01-01,", ten_mb());
    let cases: Vec<Case> = vec![
        (
            "empty file",
            b"".to_vec(),
            0,
            "the file is empty: expected a header line `employee_id,email,given_name,family_name,department,title,\
             manager_id,location,worker_type,status,start_date,end_date` and data rows",
        ),
        ("only blank lines", b"\n\r\n  \n".to_vec(), 0, "the file is empty"),
        (
            "header and no data rows",
            csv(HR_HEADER, &[]),
            0,
            "no records: importing this file would remove every person of the HR feed; pass --allow-empty",
        ),
        ("no header (data first)", csv(HR_ADA, &[HR_BOB]), 1, "wrong header: missing column(s) employee_id, email,"),
        (
            "header without status",
            csv(
                "employee_id,email,given_name,family_name,department,title,manager_id,location,worker_type,start_date,end_date",
                &["E1,ada@example.com,Ada,Lovelace,Engineering,CTO,,London,employee,2020-01-01,"],
            ),
            1,
            "wrong header: missing column(s) status; expected a header with employee_id,email,given_name,",
        ),
        (
            "header after blank lines, still wrong",
            [b"\n\n".as_slice(), &csv("id,mail", &["E1,ada@example.com"])].concat(),
            3,
            "(found `id,mail`)",
        ),
        (
            "truncated row",
            csv(HR_HEADER, &[HR_ADA, "E2,bob@example.com,Bob"]),
            3,
            "expected 12 fields as in the header, found 3 (truncated row?)",
        ),
        (
            "truncated last line without newline",
            [csv(HR_HEADER, &[HR_ADA]), b"E2,bob@exa".to_vec()].concat(),
            3,
            "found 2 (truncated row?)",
        ),
        ("row with an extra field", csv(HR_HEADER, &[&format!("{HR_ADA},x")]), 2, "expected 12 fields as in the header, found 13"),
        (
            "unclosed quote",
            csv(HR_HEADER, &["E1,ada@example.com,Ada,Lovelace,\"Engineering,CTO,,London,employee,active,2020-01-01,", HR_BOB]),
            2,
            "a quoted field runs over several lines: is a `\"` left unclosed?",
        ),
        (
            "bad date",
            csv(HR_HEADER, &["E1,ada@example.com,Ada,Lovelace,Engineering,CTO,,London,employee,active,31/01/2020,"]),
            2,
            "column `start_date`: \"31/01/2020\" is not a date: expected YYYY-MM-DD",
        ),
        (
            "impossible date",
            csv(HR_HEADER, &[HR_ADA, "E2,bob@example.com,Bob,Byte,Eng,Dev,E1,London,contractor,terminated,2021-03-01,2023-02-29"]),
            3,
            "column `end_date`: \"2023-02-29\" is not a date",
        ),
        (
            "end date before start date",
            csv(HR_HEADER, &["E1,ada@example.com,Ada,Lovelace,Engineering,CTO,,London,employee,terminated,2020-01-01,2019-12-31"]),
            2,
            "column `end_date`: end date 2019-12-31 is before start date 2020-01-01",
        ),
        (
            // HR has no boolean column: its other closed vocabulary instead.
            "bad worker_type",
            csv(HR_HEADER, &["E1,ada@example.com,Ada,Lovelace,Engineering,CTO,,London,intern,active,2020-01-01,"]),
            2,
            "column `worker_type`: unknown value \"intern\": expected one of employee, contractor, vendor",
        ),
        (
            "bad UTF-8 in a field",
            [HR_HEADER.as_bytes(), b"\nE1,ada@example.com,Ad\xFF,Lovelace,Engineering,CTO,,London,employee,active,2020-01-01,\n"].concat(),
            2,
            "column `given_name`: not valid UTF-8 (byte 3 of the field)",
        ),
        (
            "bad UTF-8 in the header",
            [b"employee_id,em\xC3\x28il".as_slice(), b"\nE1,ada@example.com\n"].concat(),
            1,
            "header field 2 is not valid UTF-8",
        ),
        (
            "duplicate employee_id",
            csv(HR_HEADER, &[HR_ADA, HR_BOB, "E1,ada2@example.com,Ada,L,Eng,CTO,,London,employee,active,2020-01-01,"]),
            4,
            "column `employee_id`: duplicate employee_id \"E1\": already on line 2; each must appear once",
        ),
        (
            "unknown status",
            csv(HR_HEADER, &["E1,ada@example.com,Ada,Lovelace,Engineering,CTO,,London,employee,retired,2020-01-01,"]),
            2,
            "column `status`: unknown value \"retired\": expected one of active, leave, terminated",
        ),
        ("10 MB field", csv(HR_HEADER, &[HR_ADA, &big_title]), 3, "column `title`: field 6 is 10485760 bytes long; at most 65536"),
        (
            "missing employee_id",
            csv(HR_HEADER, &[",ada@example.com,Ada,Lovelace,Engineering,CTO,,London,employee,active,2020-01-01,"]),
            2,
            "column `employee_id`: a value is required",
        ),
        (
            "not an email address",
            csv(HR_HEADER, &["E1,ada.example.com,Ada,Lovelace,Engineering,CTO,,London,employee,active,2020-01-01,"]),
            2,
            "column `email`: \"ada.example.com\" is not an email address",
        ),
        (
            "own manager",
            csv(HR_HEADER, &["E1,ada@example.com,Ada,Lovelace,Engineering,CTO,E1,London,employee,active,2020-01-01,"]),
            2,
            "column `manager_id`: a person cannot be their own manager",
        ),
        // Line numbers stay exact whatever the line endings, blank lines and quoting.
        (
            "CRLF line endings",
            csv_crlf(HR_HEADER, &[HR_ADA, "E2,bob@example.com,Bob,Byte,Eng,Dev,E1,London,contractor,retired,2021-03-01,"]),
            3,
            "column `status`: unknown value \"retired\"",
        ),
        (
            "blank lines between rows",
            csv(HR_HEADER, &["", HR_ADA, "", "", "E2,bob@example.com,Bob,Byte,Eng,Dev,E1,London,contractor,retired,2021-03-01,"]),
            6,
            "column `status`: unknown value \"retired\"",
        ),
        (
            "blank CRLF lines between rows",
            csv_crlf(HR_HEADER, &[HR_ADA, "", "E2,bob@example.com,Bob,Byte,Eng,Dev,E1,London,contractor,retired,2021-03-01,"]),
            4,
            "column `status`: unknown value \"retired\"",
        ),
        (
            "duplicate after blank lines names both lines",
            csv_crlf(HR_HEADER, &["", HR_ADA, "", HR_ADA]),
            5,
            "duplicate employee_id \"E1\": already on line 3",
        ),
        (
            "quoted field over two lines before the bad row",
            csv(
                HR_HEADER,
                &[
                    "E1,ada@example.com,Ada,Lovelace,Engineering,\"CTO",
                    "and founder\",,London,employee,active,2020-01-01,",
                    "E2,bob@example.com,Bob,Byte,Eng,Dev,E1,London,contractor,retired,2021-03-01,",
                ],
            ),
            4,
            "column `status`: unknown value \"retired\"",
        ),
        (
            "byte-order mark",
            [b"\xEF\xBB\xBF".as_slice(), &csv(HR_HEADER, &["E1,ada@example.com,Ada,L,Eng,CTO,,London,employee,retired,2020-01-01,"])]
                .concat(),
            2,
            "column `status`: unknown value \"retired\"",
        ),
        (
            "duplicate header column",
            csv(&format!("{HR_HEADER},Email"), &[&format!("{HR_ADA},ada@example.org")]),
            1,
            "column `email`: duplicate column in the header: fields 2 and 13 are both \"email\"; each column must appear once",
        ),
        (
            "NUL byte in an identifier",
            csv(HR_HEADER, &["E\x001,ada@example.com,Ada,Lovelace,Engineering,CTO,,London,employee,active,2020-01-01,"]),
            2,
            "column `employee_id`: contains a NUL byte (byte 2 of the value)",
        ),
        (
            "a long bad value is quoted short",
            csv(HR_HEADER, &[&format!("E1,ada@example.com,Ada,Lovelace,Engineering,CTO,,London,employee,active,{},", "7".repeat(60_000))]),
            2,
            "7777777…\" is not a date",
        ),
    ];
    check_refusals("hr", "csv", &[], &csv(HR_HEADER, &[HR_ADA, HR_BOB]), cases);
}

// ----------------------------------------------------------------------- accounts

const ACCOUNTS_HEADER: &str = "system,account_id,username,email,employee_id,display_name,status,type,created_at,\
                               last_login_at,mfa,password_last_set_at,owner";
const ACC_ADA: &str =
    "x,u1,ada,ada@example.com,E1,Ada Lovelace,enabled,human,2020-01-01T09:00:00Z,2024-05-01T08:00:00Z,totp|push,2024-01-01,";
const ACC_SVC: &str = "x,svc1,svc-backup,,,Backup job,enabled,service,2021-01-01,,,,E1";

#[test]
fn accounts_bad_input_is_refused() {
    let big_username = format!("x,u2,{},,,Long,enabled,human,,,,,", ten_mb());
    // Accounts are stored while the file is read: a bad row after several chunks were
    // written still leaves nothing behind.
    let many: Vec<String> = (0..50_000).map(|i| format!("x,u{i},user{i},,,User {i},enabled,human,,,,,")).collect();
    let late_duplicate: Vec<&str> = many.iter().map(String::as_str).chain(["x,u1,again,,,Again,enabled,human,,,,,"]).collect();
    let cases: Vec<Case> = vec![
        (
            "duplicate after 50,000 accounts stored",
            csv(ACCOUNTS_HEADER, &late_duplicate),
            50_002,
            "column `account_id`: duplicate account \"x/u1\": already on line 3",
        ),
        ("empty file", b"".to_vec(), 0, "the file is empty: expected a header line `system,account_id,username,"),
        (
            "wrong header (an HR file)",
            csv(HR_HEADER, &[HR_ADA]),
            1,
            "wrong header: missing column(s) system, account_id, username, display_name, type, created_at,",
        ),
        (
            "truncated row",
            csv(ACCOUNTS_HEADER, &[ACC_ADA, "x,u2,bob,"]),
            3,
            "expected 13 fields as in the header, found 4 (truncated row?)",
        ),
        (
            "bad date",
            csv(ACCOUNTS_HEADER, &["x,u1,ada,ada@example.com,E1,Ada,enabled,human,2020-01-01,yesterday,totp,,"]),
            2,
            "column `last_login_at`: \"yesterday\" is not a date: expected RFC 3339 (2024-01-31T09:00:00Z) or YYYY-MM-DD",
        ),
        (
            // Accounts have no boolean column: a bad status instead.
            "bad status",
            csv(ACCOUNTS_HEADER, &["x,u1,ada,ada@example.com,E1,Ada,maybe,human,2020-01-01,,totp,,"]),
            2,
            "column `status`: unknown value \"maybe\": expected one of enabled, disabled",
        ),
        (
            "bad UTF-8 in a field",
            [ACCOUNTS_HEADER.as_bytes(), b"\nx,u1,ada,ada@example.com,E1,Ada \xC3\x28,enabled,human,,,,,\n"].concat(),
            2,
            "column `display_name`: not valid UTF-8 (byte 5 of the field)",
        ),
        (
            "duplicate system and account_id",
            csv(ACCOUNTS_HEADER, &[ACC_ADA, ACC_SVC, "x,u1,ada2,,,Ada again,disabled,human,,,,,"]),
            4,
            "column `account_id`: duplicate account \"x/u1\": already on line 2; each must appear once",
        ),
        (
            "unknown type",
            csv(ACCOUNTS_HEADER, &["x,r2d2,r2d2,,,Droid,enabled,robot,,,,,"]),
            2,
            "column `type`: unknown value \"robot\": expected one of human, admin, service, shared",
        ),
        (
            "unknown MFA factor",
            csv(ACCOUNTS_HEADER, &["x,u1,ada,,,Ada,enabled,human,,,totp|carrier-pigeon,,"]),
            2,
            "column `mfa`: unknown MFA factor \"carrier-pigeon\": expected `|`-separated none, sms, totp, push, webauthn",
        ),
        (
            "MFA none with a factor",
            csv(ACCOUNTS_HEADER, &["x,u1,ada,,,Ada,enabled,human,,,none|totp,,"]),
            2,
            "column `mfa`: \"none|totp\" lists `none` together with a factor",
        ),
        (
            "row for another system than --system",
            csv(ACCOUNTS_HEADER, &[ACC_ADA, "y,u2,bob,,,Bob,enabled,human,,,,,"]),
            3,
            "column `system`: row is for system \"y\" but --system says \"x\"",
        ),
        ("missing account_id", csv(ACCOUNTS_HEADER, &["x,,ada,,,Ada,enabled,human,,,,,"]), 2, "column `account_id`: a value is required"),
        ("10 MB field", csv(ACCOUNTS_HEADER, &[ACC_ADA, &big_username]), 3, "column `username`: field 3 is 10485760 bytes long"),
        (
            "NUL byte in an identifier",
            csv(ACCOUNTS_HEADER, &["x,u\x001,ada,,,Ada,enabled,human,,,,,"]),
            2,
            "column `account_id`: contains a NUL byte",
        ),
    ];
    check_refusals("accounts", "csv", &["--system", "x"], &csv(ACCOUNTS_HEADER, &[ACC_ADA, ACC_SVC]), cases);
}

// -------------------------------------------------------------------- assignments

const ASSIGNMENTS_HEADER: &str = "system,account_id,entitlement,privileged,granted_at,granted_by,source";
const ASG_ADMIN: &str = "x,u1,admins,true,2023-01-01T10:00:00Z,ops,request";
const ASG_READ: &str = "x,u1,readers,false,,,birthright";

#[test]
fn assignments_bad_input_is_refused() {
    let big_entitlement = format!("x,u2,{},false,,,", ten_mb());
    // Assignments are stored while the file is read, many thousand at a time: a bad row
    // after several such chunks were written still leaves nothing behind.
    let many: Vec<String> = (0..50_000).map(|i| format!("x,u{i},readers,false,,,birthright")).collect();
    let late_duplicate: Vec<&str> = many.iter().map(String::as_str).chain(["x,u1,readers,false,,,manual"]).collect();
    let late_other_system: Vec<&str> = many.iter().map(String::as_str).chain(["y,u1,readers,false,,,manual"]).collect();
    let cases: Vec<Case> = vec![
        (
            "duplicate after 50,000 rows stored",
            csv(ASSIGNMENTS_HEADER, &late_duplicate),
            50_002,
            "column `entitlement`: duplicate assignment \"x/u1/readers\": already on line 3",
        ),
        (
            "another system after 50,000 rows stored",
            csv(ASSIGNMENTS_HEADER, &late_other_system),
            50_002,
            "column `system`: row is for system \"y\" but --system says \"x\"",
        ),
        ("empty file", b"".to_vec(), 0, "the file is empty: expected a header line `system,account_id,entitlement,"),
        (
            "wrong header (an accounts file)",
            csv(ACCOUNTS_HEADER, &[ACC_ADA]),
            1,
            "wrong header: missing column(s) entitlement, privileged, granted_at, granted_by, source;",
        ),
        ("truncated row", csv(ASSIGNMENTS_HEADER, &[ASG_ADMIN, "x,u2"]), 3, "expected 7 fields as in the header, found 2 (truncated row?)"),
        (
            "bad date",
            csv(ASSIGNMENTS_HEADER, &["x,u1,admins,true,01.02.2023,ops,request"]),
            2,
            "column `granted_at`: \"01.02.2023\" is not a date",
        ),
        (
            "bad boolean",
            csv(ASSIGNMENTS_HEADER, &[ASG_READ, "x,u2,admins,maybe,,,"]),
            3,
            "column `privileged`: \"maybe\" is not a boolean: expected true or false",
        ),
        (
            "bad UTF-8 in a field",
            [ASSIGNMENTS_HEADER.as_bytes(), b"\nx,u1,admins,true,,op\xE9rateur,request\n"].concat(),
            2,
            "column `granted_by`: not valid UTF-8 (byte 3 of the field)",
        ),
        (
            "duplicate system, account_id and entitlement",
            csv(ASSIGNMENTS_HEADER, &[ASG_ADMIN, ASG_READ, "x,u1,admins,true,,,manual"]),
            4,
            "column `entitlement`: duplicate assignment \"x/u1/admins\": already on line 2; each must appear once",
        ),
        (
            // Repeats are found once the file is read (strict): still the first problem in
            // file order, and the first line the key was on.
            "a repeat before a bad row",
            csv(
                ASSIGNMENTS_HEADER,
                &[
                    "x,ü/1@example.com,grp/ä,true,,,",
                    "x,u2,grp/b,false,,,",
                    "x,u2,grp/b,false,,,",
                    "x,ü/1@example.com,grp/ä,true,,,",
                    "x,u3,grp/c,false,31/12/2024,,",
                ],
            ),
            4,
            "column `entitlement`: duplicate assignment \"x/u2/grp/b\": already on line 3; each must appear once",
        ),
        (
            "a bad row before a repeat",
            csv(ASSIGNMENTS_HEADER, &[ASG_ADMIN, "x,u2,admins,true,31/12/2024,,", "x,u1,admins,true,,,manual"]),
            3,
            "column `granted_at`: \"31/12/2024\" is not a date",
        ),
        (
            "a repeat on a row that is bad besides",
            csv(ASSIGNMENTS_HEADER, &[ASG_ADMIN, "x,u1,admins,false,31/12/2024,,"]),
            3,
            "column `entitlement`: duplicate assignment \"x/u1/admins\": already on line 2",
        ),
        (
            "unknown source",
            csv(ASSIGNMENTS_HEADER, &["x,u1,admins,true,,,inherited"]),
            2,
            "column `source`: unknown value \"inherited\": expected one of birthright, request, manual, unknown",
        ),
        (
            "entitlement privileged on one row only",
            csv(ASSIGNMENTS_HEADER, &[ASG_ADMIN, "x,u2,admins,false,,,"]),
            3,
            "column `privileged`: entitlement x/admins is privileged=true on line 2 but privileged=false here",
        ),
        (
            "bad date in an optional column",
            csv(&format!("{ASSIGNMENTS_HEADER},last_certified_at"), &[&format!("{ASG_ADMIN},2024-13-01")]),
            2,
            "column `last_certified_at`: \"2024-13-01\" is not a date",
        ),
        ("10 MB field", csv(ASSIGNMENTS_HEADER, &[ASG_ADMIN, &big_entitlement]), 3, "column `entitlement`: field 3 is 10485760 bytes long"),
    ];
    check_refusals("assignments", "csv", &["--system", "x"], &csv(ASSIGNMENTS_HEADER, &[ASG_ADMIN, ASG_READ]), cases);
}

// ------------------------------------------------------------------------- badges

const BADGES_HEADER: &str = "badge_id,employee_id,status,last_used_at,zones";
const BADGE_1: &str = "B1,E1,active,2024-05-01T08:00:00Z,hq|lab";
const BADGE_2: &str = "B2,,revoked,,";

#[test]
fn badges_bad_input_is_refused() {
    let big_zones = format!("B3,E3,active,,{}", ten_mb());
    let cases: Vec<Case> = vec![
        ("empty file", b"".to_vec(), 0, "the file is empty: expected a header line `badge_id,employee_id,status,last_used_at,zones`"),
        ("header and no data rows", csv(BADGES_HEADER, &[]), 0, "no records: importing this file would remove every badges record"),
        (
            "header without zones",
            csv("badge_id,employee_id,status,last_used_at", &["B1,E1,active,"]),
            1,
            "wrong header: missing column(s) zones; expected a header with badge_id,employee_id,status,last_used_at,zones",
        ),
        ("truncated row", csv(BADGES_HEADER, &[BADGE_1, "B2,E2"]), 3, "expected 5 fields as in the header, found 2 (truncated row?)"),
        ("bad date", csv(BADGES_HEADER, &["B1,E1,active,last tuesday,hq"]), 2, "column `last_used_at`: \"last tuesday\" is not a date"),
        (
            // Badges have no boolean column: a missing status instead.
            "missing status",
            csv(BADGES_HEADER, &[BADGE_1, "B2,E2,,,"]),
            3,
            "column `status`: a value is required: one of active, inactive",
        ),
        (
            "bad UTF-8 in a field",
            [BADGES_HEADER.as_bytes(), b"\nB1,E1,active,,hq|\xF0\x9F\n"].concat(),
            2,
            "column `zones`: not valid UTF-8 (byte 4 of the field)",
        ),
        (
            "duplicate badge_id",
            csv(BADGES_HEADER, &[BADGE_1, BADGE_2, "B1,E9,inactive,,"]),
            4,
            "column `badge_id`: duplicate badge_id \"B1\": already on line 2; each must appear once",
        ),
        (
            "unknown status",
            csv(BADGES_HEADER, &["B1,E1,melted,,"]),
            2,
            "column `status`: unknown value \"melted\": expected one of active, inactive",
        ),
        ("missing badge_id", csv(BADGES_HEADER, &[",E1,active,,"]), 2, "column `badge_id`: a value is required"),
        ("10 MB field", csv(BADGES_HEADER, &[BADGE_1, &big_zones]), 3, "column `zones`: field 5 is 10485760 bytes long"),
        ("NUL byte in an identifier", csv(BADGES_HEADER, &["B\x001,E1,active,,"]), 2, "column `badge_id`: contains a NUL byte"),
    ];
    check_refusals("badges", "csv", &["--system", "x"], &csv(BADGES_HEADER, &[BADGE_1, BADGE_2]), cases);
}

// --------------------------------------------------------------------------- LDIF

/// Lines 1-6 of a person entry.
const LDIF_ADA: &[&str] = &[
    "dn: uid=ada,ou=People,dc=example,dc=com",
    "objectClass: inetOrgPerson",
    "uid: ada",
    "cn: Ada Lovelace",
    "mail: ada@example.com",
    "createTimestamp: 20200101090000Z",
];
/// An Active Directory user, lines 1-3.
const LDIF_AD_USER: &[&str] = &["dn: CN=Bob,OU=Users,DC=corp,DC=example", "objectClass: user", "sAMAccountName: bob"];

fn ldif(parts: &[&[&str]]) -> Vec<u8> {
    text(&parts.concat())
}

#[test]
fn ldif_bad_input_is_refused() {
    let valid = ldif(&[
        &["version: 1", ""],
        LDIF_ADA,
        &[
            "",
            "dn: cn=admins,ou=Groups,dc=example,dc=com",
            "objectClass: groupOfNames",
            "cn: admins",
            "member: uid=ada,ou=People,dc=example,dc=com",
        ],
    ]);
    let big = format!("description: {}", ten_mb());
    let cases: Vec<Case> = vec![
        ("empty file", b"".to_vec(), 0, "the file is empty: expected LDIF entries"),
        ("only comments and a version", text(&["# export", "version: 1", ""]), 0, "the file is empty: expected LDIF entries"),
        (
            // LDIF's "wrong header": a change record instead of content.
            "change record",
            ldif(&[&[
                "version: 1",
                "",
                "dn: uid=ada,ou=People,dc=example,dc=com",
                "changetype: modify",
                "replace: mail",
                "mail: a@x",
                "-",
            ]]),
            3,
            "LDIF change records (changetype: modify) are not supported: export the directory content (ldapsearch) instead",
        ),
        (
            // LDIF's "truncated row": an entry whose dn line is missing.
            "entry without dn",
            ldif(&[LDIF_ADA, &["", "objectClass: person", "cn: Nobody"]]),
            8,
            "entry without dn: an entry must start with a `dn:` line, found `objectClass:`",
        ),
        ("entries not separated", ldif(&[LDIF_ADA, LDIF_AD_USER]), 7, "a `dn:` line inside an entry: separate entries with an empty line"),
        (
            "bad date",
            ldif(&[&LDIF_ADA[..5], &["createTimestamp: 2020-01-01"]]),
            6,
            "column `createTimestamp`: \"2020-01-01\" is not a GeneralizedTime: expected YYYYMMDDhhmmssZ",
        ),
        (
            "bad FILETIME",
            ldif(&[LDIF_AD_USER, &["lastLogonTimestamp: yesterday"]]),
            4,
            "column `lastLogonTimestamp`: \"yesterday\" is not a FILETIME",
        ),
        (
            // LDIF has no boolean: the userAccountControl flags must be an integer.
            "bad userAccountControl",
            ldif(&[LDIF_AD_USER, &["userAccountControl: enabled"]]),
            4,
            "column `userAccountControl`: \"enabled\" is not an integer",
        ),
        (
            "bad UTF-8 in a value",
            [text(LDIF_ADA), b"displayName: Ad\xFF\n".to_vec()].concat(),
            7,
            "column `displayName`: the value is not valid UTF-8 (byte 3): binary values must be base64-encoded",
        ),
        (
            "base64 value not UTF-8 text",
            ldif(&[LDIF_ADA, &["displayName:: /w=="]]),
            7,
            "column `displayName`: the base64 value is not valid UTF-8 text (byte 1)",
        ),
        ("bad base64", ldif(&[LDIF_ADA, &["cn:: ***"]]), 7, "column `cn`: `cn::` must be followed by valid base64"),
        (
            "duplicate DN",
            ldif(&[LDIF_ADA, &["", "dn: UID=ada, ou=people, dc=example, dc=com", "objectClass: inetOrgPerson"]]),
            8,
            "column `dn`: duplicate DN \"UID=ada, ou=people, dc=example, dc=com\": already on line 1",
        ),
        (
            "duplicate login",
            ldif(&[LDIF_ADA, &["", "dn: uid=ada,ou=Alumni,dc=example,dc=com", "objectClass: inetOrgPerson", "uid: ADA"]]),
            8,
            "column `uid`: duplicate account \"ADA\": the entry on line 1 has the same uid",
        ),
        ("unknown version", ldif(&[&["version: 2", ""], LDIF_ADA]), 1, "column `version`: unsupported LDIF version \"2\""),
        (
            "URL value",
            ldif(&[LDIF_ADA, &["jpegPhoto:< file:///etc/passwd"]]),
            7,
            "column `jpegPhoto`: URL-valued attributes are not supported",
        ),
        ("10 MB value", ldif(&[LDIF_ADA, &[&big]]), 7, "column `description`: the value is 10485760 bytes long; at most 1048576"),
        (
            "CRLF line endings",
            String::from_utf8(ldif(&[LDIF_ADA, &["", "cn: orphan"]])).expect("text").replace('\n', "\r\n").into_bytes(),
            8,
            "entry without dn",
        ),
        ("UTF-16 export", b"\xFF\xFEd\0n\0:\0 \0".to_vec(), 1, "the file is UTF-16 (ldifde -u?)"),
        (
            "NUL byte in a DN",
            ldif(&[&["dn: uid=a\0da,ou=People,dc=example,dc=com", "objectClass: inetOrgPerson"]]),
            1,
            "column `dn`: the DN contains a NUL byte",
        ),
        (
            "NUL byte in a base64 login",
            ldif(&[&LDIF_ADA[..2], &["uid:: YQBkYQ=="]]),
            3,
            "column `uid`: the value contains a NUL byte (byte 2)",
        ),
        (
            "changetype: add after attributes",
            ldif(&[&LDIF_ADA[..3], &["changetype: add"]]),
            4,
            "column `changetype`: `changetype: add` must directly follow the entry's dn line",
        ),
    ];
    check_refusals("ldif", "ldif", &["--system", "x"], &valid, cases);
}

// ------------------------------------------------------------ AWS credential report

const AWS_HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,\
                          password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,\
                          access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,\
                          access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,\
                          access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,\
                          cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

/// A report row for `user` (no password, keys or certificates), with `changes` applied.
fn aws_row(user: &str, changes: &[(&str, &str)]) -> String {
    AWS_HEADER
        .split(',')
        .map(|col| match changes.iter().find(|(c, _)| *c == col) {
            Some((_, v)) => v.to_string(),
            None => match col {
                "user" => user.to_string(),
                "arn" => format!("arn:aws:iam::123456789012:user/{user}"),
                "user_creation_time" => "2019-03-01T10:00:00+00:00".to_string(),
                c if c.ends_with("_active") || c == "password_enabled" => "false".to_string(),
                _ => "N/A".to_string(),
            },
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn aws_report(rows: &[String]) -> Vec<u8> {
    csv(AWS_HEADER, &rows.iter().map(String::as_str).collect::<Vec<_>>())
}

#[test]
fn aws_header_is_what_the_importer_requires() {
    assert_eq!(AWS_HEADER, annexa_connect::aws::REQUIRED.join(","));
}

#[test]
fn aws_credential_report_bad_input_is_refused() {
    let root = aws_row(
        "<root_account>",
        &[
            ("arn", "arn:aws:iam::123456789012:root"),
            ("password_enabled", "not_supported"),
            ("password_last_used", "no_information"),
            ("password_last_changed", "not_supported"),
            ("password_next_rotation", "not_supported"),
            ("mfa_active", "true"),
        ],
    );
    let alice = aws_row(
        "alice",
        &[
            ("password_enabled", "true"),
            ("password_last_used", "2024-05-30T08:12:00+00:00"),
            ("mfa_active", "true"),
            ("access_key_1_active", "true"),
            ("access_key_1_last_rotated", "2024-01-01T00:00:00+00:00"),
        ],
    );
    let header_without_mfa = AWS_HEADER.replace(",mfa_active", "");
    let row_without_mfa = aws_row("bob", &[]).replacen(",false,false,", ",false,", 1);
    let big_arn = format!("arn:aws:iam::123456789012:user/{}", ten_mb());
    let bad_utf8_user =
        [aws_report(std::slice::from_ref(&root)), b"b\xFFb".to_vec(), aws_row("", &[]).into_bytes(), b"\n".to_vec()].concat();
    let cases: Vec<Case> = vec![
        ("empty file", b"".to_vec(), 0, "the file is empty: expected a header line `user,arn,user_creation_time,"),
        (
            "header without mfa_active",
            csv(&header_without_mfa, &[&row_without_mfa]),
            1,
            "wrong header: missing column(s) mfa_active; expected a header with user,arn,",
        ),
        (
            "truncated row",
            aws_report(&[root.clone(), "bob,arn:aws:iam::123456789012:user/bob,2019-03-01T10:00:00+00:00".to_string()]),
            3,
            "expected 22 fields as in the header, found 3 (truncated row?)",
        ),
        (
            "bad date",
            aws_report(&[root.clone(), aws_row("bob", &[("user_creation_time", "yesterday")])]),
            3,
            "column `user_creation_time`: \"yesterday\" is not a date: expected ISO 8601 (2015-06-24T12:45:00+00:00), N/A or \
             no_information",
        ),
        (
            "bad boolean",
            aws_report(&[root.clone(), aws_row("bob", &[("mfa_active", "yes")])]),
            3,
            "column `mfa_active`: \"yes\" is not a boolean: expected true or false",
        ),
        ("bad UTF-8 in a field", bad_utf8_user, 3, "column `user`: not valid UTF-8 (byte 2 of the field)"),
        (
            "duplicate user",
            aws_report(&[root.clone(), alice.clone(), aws_row("alice", &[])]),
            4,
            "column `user`: duplicate user \"alice\": already on line 3; each must appear once",
        ),
        (
            // The report's "does not apply" words are only accepted where AWS writes them.
            "not_supported where a flag is required",
            aws_report(&[root.clone(), aws_row("bob", &[("access_key_1_active", "not_supported")])]),
            3,
            "column `access_key_1_active`: \"not_supported\" is not a boolean: expected true or false",
        ),
        (
            "no creation time",
            aws_report(&[root.clone(), aws_row("bob", &[("user_creation_time", "N/A")])]),
            3,
            "column `user_creation_time`: a date is required (the user's creation time)",
        ),
        (
            "10 MB field",
            aws_report(&[root.clone(), aws_row("bob", &[("arn", &big_arn)])]),
            3,
            "column `arn`: field 2 is 10485791 bytes long; at most 65536",
        ),
        (
            "duplicate header column",
            csv(&format!("{AWS_HEADER},MFA_Active"), &[&format!("{root},true")]),
            1,
            "column `mfa_active`: duplicate column in the header: fields 8 and 23",
        ),
    ];
    check_refusals("aws-credential-report", "csv", &["--system", "x"], &aws_report(&[root, alice]), cases);
}

// ---------------------------------------------------------- kinds, files, mappings

#[test]
fn unknown_kind_is_refused_with_the_list_of_kinds() {
    let sandbox = Sandbox::new();
    let file = sandbox.write("people.csv", csv(HR_HEADER, &[HR_ADA]));
    let out = sandbox.import("robots", &file, &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("invalid value 'robots'") && err.contains("[possible values: hr, accounts, assignments, ldif, aws-credential-report, badges, scim, okta, entra, google-workspace, github, ldap]"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(!sandbox.path("a.db").exists(), "the database is not even opened");
}

#[test]
fn missing_file_is_refused_naming_it() {
    let sandbox = Sandbox::new();
    let valid = sandbox.write("people.csv", csv(HR_HEADER, &[HR_ADA]));
    assert!(sandbox.import("hr", &valid, &[]).status.success());
    let before = state(&sandbox);
    let missing = sandbox.path("no-such-export.csv");
    let out = sandbox.import("hr", &missing, &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(&format!("cannot read {}", missing.display())), "{err}");
    assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"), "{err}");
    assert_eq!(state(&sandbox), before);
}

/// An export with its own column names, and the mapping to the canonical ones.
const WORKDAY_HEADER: &str = "Employee Number,Work Email,First,Last,Dept,Job,Manager,Office,Type,State,Hire Date,Term Date";
const WORKDAY_MAPPING: &str = r#"[columns]
employee_id = "Employee Number"
email = "Work Email"
given_name = "First"
family_name = "Last"
department = "Dept"
title = "Job"
manager_id = "Manager"
location = "Office"
worker_type = "Type"
status = "State"
start_date = "Hire Date"
end_date = "Term Date"
"#;

#[test]
fn hr_mapping_is_applied() {
    let sandbox = Sandbox::new();
    let mapping = sandbox.write("workday.toml", WORKDAY_MAPPING.as_bytes());
    let file = sandbox.write("workday.csv", csv(WORKDAY_HEADER, &[HR_ADA, HR_BOB]));
    let out = sandbox.import("hr", &file, &["--mapping", mapping.to_str().expect("UTF-8 path")]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("imported 2 people"), "{}", stderr(&out));
    let state = state(&sandbox);
    assert!(state.imports.contains(",hr,,") && state.imports.contains(",2,"), "{}", state.imports);
}

#[test]
fn hr_mapping_errors_are_refused() {
    let sandbox = Sandbox::new();
    let valid = sandbox.write("people.csv", csv(HR_HEADER, &[HR_ADA]));
    assert!(sandbox.import("hr", &valid, &[]).status.success());
    let before = state(&sandbox);
    // Line 3 is bad only in its status word.
    let data = sandbox.write(
        "workday.csv",
        csv(WORKDAY_HEADER, &[HR_ADA, "E2,bob@example.com,Bob,Byte,Engineering,Dev,E1,London,contractor,Retired,2021-03-01,"]),
    );

    // (case, mapping file content, kind, line of the data file in the message or None
    // when the message names the mapping file, fragment)
    let cases: &[(&str, &str, &str, Option<u64>, &str)] = &[
        (
            "unknown canonical column",
            "[columns]\nemployee_id = \"Employee Number\"\nnickname = \"Nick\"\n",
            "hr",
            None,
            "workday-mapping.toml: [columns] names \"nickname\", which is not an HR column: expected some of employee_id, \
             email, given_name, family_name, department, title, manager_id, location, worker_type, status, start_date, \
             end_date, screening_date",
        ),
        (
            "mapped column absent from the file",
            "[columns]\nemployee_id = \"Personnel No\"\n",
            "hr",
            Some(1),
            "wrong header: missing column(s) Personnel No, email, given_name",
        ),
        ("not TOML", "[columns\nemployee_id = ", "hr", None, "workday-mapping.toml"),
        ("no [columns] table", "employee_id = \"Employee Number\"\n", "hr", None, "workday-mapping.toml"),
        ("mapping for another kind", WORKDAY_MAPPING, "accounts", None, "--mapping applies to hr imports only"),
        (
            "value mapped to an unknown word",
            "[values.status]\n\"Gone\" = \"departed\"\n",
            "hr",
            None,
            "workday-mapping.toml: [values.status] maps \"Gone\" to \"departed\", which is not a status: expected one of active, leave, terminated",
        ),
        ("date format without a day", "date_format = \"%m/%Y\"\n", "hr", None, "workday-mapping.toml: date_format \"%m/%Y\" does not name a whole date"),
        ("a required value declared optional", "optional = [\"employee_id\"]\n", "hr", None, "optional names \"employee_id\", whose value every person needs"),
        (
            "an unknown word names the export's column",
            &format!("{WORKDAY_MAPPING}[values.status]\n\"Active\" = \"active\"\n"),
            "hr",
            Some(3),
            "column `State`: unknown value \"Retired\": expected one of active, leave, terminated (or a word the mapping's [values.status] translates)",
        ),
    ];
    let mut failures = Vec::new();
    for (case, mapping, kind, line, fragment) in cases {
        let mapping = sandbox.write("workday-mapping.toml", mapping.as_bytes());
        let out = sandbox.import(kind, &data, &["--mapping", mapping.to_str().expect("UTF-8 path")]);
        let err = stderr(&out);
        let mut problems = match line {
            Some(line) => refusal_problems(&out, &data, *line, fragment),
            None => {
                let mut p = Vec::new();
                if out.status.code() != Some(2) || !err.contains(fragment) || err.contains("panicked") {
                    p.push(format!("exit code {:?}, stderr: {err}", out.status.code()));
                }
                p
            }
        };
        if state(&sandbox) != before {
            problems.push("the database changed".to_string());
        }
        if !problems.is_empty() {
            failures.push(format!("mapping / {case}:\n  {}", problems.join("\n  ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// --------------------------------------------------------------------------- SCIM

const SCIM_ADA: &str = r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u1","userName":"ada"}"#;
const SCIM_BOB: &str = r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u2","userName":"bob","active":false}"#;
const SCIM_STAFF: &str =
    r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"g1","displayName":"staff","members":[{"value":"u1"}]}"#;

#[test]
fn scim_bad_input_is_refused() {
    let big =
        format!(r#"{{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u3","userName":"cy","displayName":"{}"}}"#, ten_mb());
    let cases: Vec<Case> = vec![
        ("empty file", b"".to_vec(), 0, "no records: importing this file would remove every scim record"),
        ("truncated line", text(&[SCIM_ADA, &SCIM_BOB[..40]]), 2, "not a JSON resource: EOF while parsing"),
        ("an array", text(&[SCIM_ADA, "[1, 2]"]), 2, "expected a JSON object (one SCIM resource per line)"),
        (
            "not a User or Group",
            text(&[r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Role"]}"#]),
            1,
            "column `schemas`: expected a SCIM User",
        ),
        (
            "no userName",
            text(&[SCIM_ADA, r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u2"}"#]),
            2,
            "column `userName`: a User needs a userName",
        ),
        (
            "duplicate userName",
            text(&[SCIM_ADA, &SCIM_BOB.replace("\"bob\"", "\"ADA\"")]),
            2,
            "duplicate userName \"ADA\": line 1 has it too",
        ),
        ("active not a boolean", text(&[&SCIM_BOB.replace("false", "\"no\"")]), 1, "column `active`: expected true or false"),
        ("unknown member", text(&[SCIM_ADA, &SCIM_STAFF.replace("u1", "u9")]), 2, "member \"u9\" is no User or Group of this snapshot"),
        (
            "bad date",
            text(&[&SCIM_ADA.replace("}", r#","meta":{"created":"soon"}}"#)]),
            1,
            "column `meta.created`: \"soon\" is not an RFC 3339 date-time",
        ),
        ("bad UTF-8", [SCIM_ADA.as_bytes(), b"\n{\"x\":\"\xF0\x9F\"}\n"].concat(), 2, "the file is not UTF-8"),
        ("10 MB resource", text(&[SCIM_ADA, &big]), 2, "a resource of 10485861 bytes apart from Group members; expected at most 1114112"),
        ("duplicate Group id", text(&[SCIM_ADA, SCIM_STAFF, SCIM_STAFF]), 3, "column `id`: duplicate Group id \"g1\""),
        (
            "duplicate User id",
            text(&[SCIM_ADA, &SCIM_BOB.replace("u2", "u1")]),
            2,
            "column `id`: duplicate User id \"u1\": line 1 has it too",
        ),
        (
            "NUL in a userName",
            text(&[&SCIM_ADA.replace("\"ada\"", "\"a\\u0000da\"")]),
            1,
            "column `userName`: the value contains a NUL byte",
        ),
        (
            "a list answer with a bad User",
            text(&[&format!(
                r#"{{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"Resources":[{SCIM_ADA},{}]}}"#,
                SCIM_BOB.replace("false", "0")
            )]),
            1,
            "column `active`: expected true or false, found 0",
        ),
        (
            "a broken pretty-printed answer",
            text(&["{", r#"  "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"#, r#"  "Resources": ["#]),
            4,
            "not a JSON document: EOF while parsing",
        ),
    ];
    check_refusals("scim", "jsonl", &["--system", "okta"], &text(&[SCIM_ADA, SCIM_BOB, SCIM_STAFF]), cases);
}
// ------------------------------------------------ identity providers' JSON (several files)

/// `records` as one JSON array, one record per line from line 2.
fn json_array(records: &[&str]) -> Vec<u8> {
    format!("[\n{}\n]\n", records.join(",\n")).into_bytes()
}

const OKTA_ADA: &str =
    r#"{"id":"00u1","status":"ACTIVE","created":"2020-01-01T00:00:00.000Z","profile":{"login":"ada@example.com","employeeNumber":"E1"}}"#;
const OKTA_BOB: &str = r#"{"id":"00u2","status":"SUSPENDED","lastLogin":null,"profile":{"login":"bob@example.com"}}"#;

#[test]
fn okta_bad_input_is_refused() {
    let big = OKTA_BOB.replace("}}", &format!(r#","displayName":"{}"}}}}"#, ten_mb()));
    let valid = json_array(&[OKTA_ADA, OKTA_BOB]);
    let cases: Vec<Case> = vec![
        ("empty file", b"".to_vec(), 0, "no records: importing this file would remove every okta record"),
        ("truncated file", valid[..valid.len() - 8].to_vec(), 3, "not valid JSON: EOF while parsing a string (column 84)"),
        ("not objects", json_array(&[OKTA_ADA, "42"]), 3, "expected a JSON object (one record), found a number"),
        (
            "missing login",
            json_array(&[OKTA_ADA, r#"{"id":"00u2","status":"ACTIVE","profile":{}}"#]),
            3,
            "column `profile.login`: missing required field `profile.login` (the user's login)",
        ),
        (
            "missing status",
            json_array(&[&OKTA_ADA.replace(r#""status":"ACTIVE","#, "")]),
            2,
            "column `status`: missing required field `status`",
        ),
        (
            "wrong type",
            json_array(&[&OKTA_ADA.replace(r#""E1""#, "1001")]),
            2,
            "column `profile.employeeNumber`: expected a string, found the number \"1001\"",
        ),
        (
            "unknown status",
            json_array(&[&OKTA_ADA.replace("ACTIVE", "ENABLED")]),
            2,
            "column `status`: unknown status \"ENABLED\": expected one of ACTIVE,",
        ),
        (
            "bad date",
            json_array(&[&OKTA_ADA.replace("2020-01-01T00:00:00.000Z", "01/01/2020")]),
            2,
            "column `created`: \"01/01/2020\" is not a date-time: expected RFC 3339",
        ),
        ("bad UTF-8", [json_array(&[OKTA_ADA]), b"\xC3(".to_vec()].concat(), 4, "the file is not UTF-8"),
        (
            "duplicate user id",
            json_array(&[OKTA_ADA, OKTA_BOB, &OKTA_BOB.replace("bob@", "rob@")]),
            4,
            "column `id`: duplicate user id \"00u2\": line 3 has it too",
        ),
        ("NUL in an id", json_array(&[&OKTA_ADA.replace("00u1", "00\\u00001")]), 2, "column `id`: \"00\\01\" contains a NUL byte"),
        ("10 MB record", json_array(&[OKTA_ADA, &big]), 3, "a record of 10485866 bytes; expected at most 1048576"),
        (
            "a factor in a file not named after its user",
            json_array(&[OKTA_ADA, r#"{"factorType":"sms","status":"ACTIVE"}"#]),
            3,
            "an enrolled factor in a file not named after its user",
        ),
        ("a string", b"\"okta\"\n".to_vec(), 1, "expected a JSON array or object"),
    ];
    check_refusals("okta", "json", &[], &valid, cases);
}

/// Several files are one import: a refusal names the file at fault and its own line, and
/// the database is unchanged; a directory imports its files in path order.
#[test]
fn okta_several_files_and_a_directory() {
    let sandbox = Sandbox::new();
    let dir = sandbox.path("okta");
    std::fs::create_dir_all(dir.join("groups/00g1")).expect("mkdir");
    std::fs::write(dir.join("users.json"), json_array(&[OKTA_ADA, OKTA_BOB])).expect("write");
    std::fs::write(dir.join("groups.json"), br#"[{"id":"00g1","profile":{"name":"Staff"}}]"#).expect("write");
    std::fs::write(dir.join("groups/00g1/users.json"), b"[{\"id\":\"00u1\"},\n{\"id\":\"00u2\"}]").expect("write");
    let out = sandbox.annexa(&["import", "okta", dir.to_str().expect("UTF-8 path")]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("imported 2 accounts, 1 entitlements, 2 assignments for okta"), "{}", stderr(&out));
    let before = state(&sandbox);

    let users = sandbox.write("users.json", json_array(&[OKTA_ADA]));
    let members = sandbox.write("groups-00g1-users.json", b"[{\"id\":\"00u1\"},\n{\"id\":\"00u2\"}]");
    let out = sandbox.annexa(&["import", "okta", users.to_str().expect("path"), members.to_str().expect("path")]);
    let problems = refusal_problems(&out, &members, 2, "column `id`: member \"00u2\" of group \"00g1\" is no user of this import");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(state(&sandbox), before);

    let out = sandbox.annexa(&["import", "hr", users.to_str().expect("path"), members.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("a hr import reads one file"), "{}", stderr(&out));
    assert_eq!(state(&sandbox), before);
}

const ENTRA_ADA: &str = r#"{"id":"u1","userPrincipalName":"ada@example.com","accountEnabled":true,"employeeId":"E1"}"#;
const ENTRA_BOB: &str = r#"{"id":"u2","userPrincipalName":"bob@example.com","accountEnabled":false,"signInActivity":null}"#;

/// A Microsoft Graph page of `records`, one per line from line 2.
fn graph_page(records: &[&str]) -> Vec<u8> {
    format!("{{\"value\":[\n{}\n],\"@odata.nextLink\":null}}\n", records.join(",\n")).into_bytes()
}

#[test]
fn entra_bad_input_is_refused() {
    let big = ENTRA_BOB.replace("null}", &format!(r#"null,"displayName":"{}"}}"#, ten_mb()));
    let valid = graph_page(&[ENTRA_ADA, ENTRA_BOB]);
    let cases: Vec<Case> = vec![
        ("empty file", b"".to_vec(), 0, "no records: importing this file would remove every entra record"),
        ("truncated file", valid[..valid.len() - 30].to_vec(), 3, "not valid JSON: EOF while parsing"),
        ("value not an array", br#"{"value":{"id":"u1"}}"#.to_vec(), 1, "column `value`: expected an array of records under `value`"),
        (
            "not a Graph record",
            graph_page(&[ENTRA_ADA, r#"{"id":"x"}"#]),
            3,
            "expected a Microsoft Graph user (with userPrincipalName), group",
        ),
        (
            "accountEnabled not selected",
            graph_page(&[&ENTRA_ADA.replace(r#""accountEnabled":true,"#, "")]),
            2,
            "column `accountEnabled`: missing required field `accountEnabled`: select it",
        ),
        (
            "wrong type",
            graph_page(&[&ENTRA_ADA.replace("true", "1")]),
            2,
            "column `accountEnabled`: expected true or false, found the number \"1\"",
        ),
        (
            "bad date",
            graph_page(&[&ENTRA_ADA.replace("}", r#","createdDateTime":"2024-13-01"}"#)]),
            2,
            "column `createdDateTime`: \"2024-13-01\" is not a date-time",
        ),
        ("bad UTF-8", [graph_page(&[ENTRA_ADA]), b"\xFF".to_vec()].concat(), 4, "the file is not UTF-8"),
        (
            "duplicate user id",
            graph_page(&[ENTRA_ADA, ENTRA_BOB, ENTRA_BOB]),
            4,
            "column `id`: duplicate user id \"u2\": line 3 has it too",
        ),
        (
            "NUL in a login",
            graph_page(&[&ENTRA_ADA.replace("ada@", "ada\\u0000@")]),
            2,
            "column `userPrincipalName`: \"ada\\0@example.com\" contains a NUL byte",
        ),
        ("10 MB record", graph_page(&[ENTRA_ADA, &big]), 3, "a record of 10485871 bytes; expected at most 1048576"),
        (
            "unknown member",
            graph_page(&[ENTRA_ADA, r#"{"id":"g1","displayName":"Staff","securityEnabled":true,"members":[{"id":"u9"}]}"#]),
            3,
            "column `members`: member \"u9\" of \"g1\" is no user of this import",
        ),
    ];
    check_refusals("entra", "json", &[], &valid, cases);
}

const GOOGLE_ADA: &str = r#"{"kind":"admin#directory#user","id":"101","primaryEmail":"ada@example.com","suspended":false,"isEnrolledIn2Sv":true,"lastLoginTime":"2026-03-01T10:00:00.000Z","externalIds":[{"value":"E1","type":"organization"}]}"#;
const GOOGLE_BOB: &str = r#"{"kind":"admin#directory#user","id":"102","primaryEmail":"bob@example.com","suspended":true,"lastLoginTime":"1970-01-01T00:00:00.000Z"}"#;

/// A Directory API users page of `records`, one per line from line 2.
fn google_page(records: &[&str]) -> Vec<u8> {
    format!("{{\"kind\":\"admin#directory#users\",\"users\":[\n{}\n],\"nextPageToken\":null}}\n", records.join(",\n")).into_bytes()
}

#[test]
fn google_workspace_bad_input_is_refused() {
    let big = GOOGLE_BOB.replace("}", &format!(r#","orgUnitPath":"{}"}}"#, ten_mb()));
    let valid = google_page(&[GOOGLE_ADA, GOOGLE_BOB]);
    let cases: Vec<Case> = vec![
        ("empty file", b"".to_vec(), 0, "no records: importing this file would remove every google-workspace record"),
        ("truncated file", valid[..valid.len() - 40].to_vec(), 3, "not valid JSON: EOF while parsing"),
        (
            "users not an array",
            br#"{"kind":"admin#directory#users","users":{"id":"101"}}"#.to_vec(),
            1,
            "column `users`: expected an array of records under `users`",
        ),
        (
            "not a user or group",
            json_array(&[GOOGLE_ADA, r#"{"id":"x"}"#]),
            3,
            "expected a Directory API user (with primaryEmail) or group (with email)",
        ),
        (
            "a user of a page without primaryEmail",
            google_page(&[GOOGLE_ADA, r#"{"id":"x"}"#]),
            3,
            "column `primaryEmail`: missing required field `primaryEmail`",
        ),
        (
            "missing primaryEmail",
            google_page(&[&GOOGLE_ADA.replace(r#""primaryEmail":"ada@example.com","#, "")]),
            2,
            "column `primaryEmail`: missing required field `primaryEmail`",
        ),
        (
            "wrong type",
            google_page(&[&GOOGLE_ADA.replace(r#""suspended":false"#, r#""suspended":"false""#)]),
            2,
            "column `suspended`: expected true or false, found \"false\"",
        ),
        (
            "bad date",
            google_page(&[&GOOGLE_ADA.replace("2026-03-01T10:00:00.000Z", "01/03/2026")]),
            2,
            "column `lastLoginTime`: \"01/03/2026\" is not a date-time: expected RFC 3339",
        ),
        ("bad UTF-8", [google_page(&[GOOGLE_ADA]), b"\xC3(".to_vec()].concat(), 4, "the file is not UTF-8"),
        (
            "duplicate user id",
            google_page(&[GOOGLE_ADA, GOOGLE_BOB, &GOOGLE_BOB.replace("bob@", "rob@")]),
            4,
            "column `id`: duplicate user id \"102\": line 3 has it too",
        ),
        (
            "NUL in an id",
            google_page(&[&GOOGLE_ADA.replace("\"101\"", "\"1\\u000001\"")]),
            2,
            "column `id`: \"1\\001\" contains a NUL byte",
        ),
        ("10 MB record", google_page(&[GOOGLE_ADA, &big]), 3, "a record of 10485912 bytes; expected at most 1048576"),
        (
            "a member outside a named file",
            google_page(&[GOOGLE_ADA, r#"{"kind":"admin#directory#member","id":"101","role":"MEMBER"}"#]),
            3,
            "a group member in a file not named after its group",
        ),
        (
            "neither JSON nor the CSV",
            b"\"users\"\n".to_vec(),
            1,
            "wrong header: missing column(s) Email Address [Required], Status [READ ONLY]",
        ),
    ];
    check_refusals("google-workspace", "json", &[], &valid, cases);
}

const GOOGLE_CSV_HEADER: &str = "First Name [Required],Last Name [Required],Email Address [Required],Org Unit Path [Required],Employee ID,Status [READ ONLY],Last Sign In [READ ONLY],2sv Enrolled [READ ONLY],2sv Enforced [READ ONLY]";
const GOOGLE_CSV_ADA: &str = "Ada,Lovelace,ada@example.com,/,E1,Active,2026/03/01 10:00:00,True,True";
const GOOGLE_CSV_BOB: &str = "Bob,Byte,bob@example.com,/,,Suspended,Never logged in,False,False";

#[test]
fn google_workspace_csv_bad_input_is_refused() {
    let big = format!("Cy,{},cy@example.com,/,,Active,,False,False", ten_mb());
    let valid = csv(GOOGLE_CSV_HEADER, &[GOOGLE_CSV_ADA, GOOGLE_CSV_BOB]);
    let cases: Vec<Case> = vec![
        (
            "header and no data rows",
            csv(GOOGLE_CSV_HEADER, &[]),
            0,
            "no records: importing this file would remove every google-workspace record",
        ),
        (
            "header without 2sv Enrolled",
            csv(
                "First Name [Required],Last Name [Required],Email Address [Required],Status [READ ONLY],Last Sign In [READ ONLY]",
                &["Ada,L,ada@example.com,Active,"],
            ),
            1,
            "wrong header: missing column(s) 2sv Enrolled [READ ONLY]; expected a header with Email Address [Required],",
        ),
        (
            "duplicate column",
            csv(&format!("{GOOGLE_CSV_HEADER},Email Address [Required]"), &[&format!("{GOOGLE_CSV_ADA},x")]),
            1,
            "duplicate column in the header",
        ),
        (
            "truncated row",
            csv(GOOGLE_CSV_HEADER, &[GOOGLE_CSV_ADA, "Bob,Byte,bob@"]),
            3,
            "expected 9 fields as in the header, found 3 (truncated row?)",
        ),
        (
            "bad date",
            csv(GOOGLE_CSV_HEADER, &[&GOOGLE_CSV_ADA.replace("2026/03/01", "01/03/2026")]),
            2,
            "column `Last Sign In [READ ONLY]`: \"01/03/2026 10:00:00\" is not a date-time",
        ),
        (
            "unknown status",
            csv(GOOGLE_CSV_HEADER, &[&GOOGLE_CSV_ADA.replace("Active", "Enabled")]),
            2,
            "column `Status [READ ONLY]`: unknown status \"Enabled\": expected Active, Suspended or Archived",
        ),
        (
            "bad boolean",
            csv(GOOGLE_CSV_HEADER, &[&GOOGLE_CSV_ADA.replace("True,True", "Yes please,True")]),
            2,
            "column `2sv Enrolled [READ ONLY]`: \"Yes please\" is not a boolean",
        ),
        (
            "bad UTF-8",
            [csv(GOOGLE_CSV_HEADER, &[GOOGLE_CSV_ADA]), b"B\xC3(,Byte,bob@example.com,/,,Active,,True,True\n".to_vec()].concat(),
            3,
            "the file is not UTF-8",
        ),
        (
            "duplicate address",
            csv(GOOGLE_CSV_HEADER, &[GOOGLE_CSV_ADA, GOOGLE_CSV_BOB, &GOOGLE_CSV_BOB.replace("bob@", "BOB@")]),
            4,
            "duplicate user \"bob@example.com\": already on line 3",
        ),
        ("10 MB field", csv(GOOGLE_CSV_HEADER, &[GOOGLE_CSV_ADA, &big]), 3, "field 2 is 10485760 bytes long; at most 65536 are accepted"),
        (
            "NUL in an address",
            csv(GOOGLE_CSV_HEADER, &[&GOOGLE_CSV_ADA.replace("ada@", "ada\0@")]),
            2,
            "column `Email Address [Required]`: contains a NUL byte",
        ),
    ];
    check_refusals("google-workspace", "csv", &[], &valid, cases);
}

const GITHUB_ADA: &str = r#"{"login":"ada","id":1001,"node_id":"U_1","type":"User","site_admin":false}"#;
const GITHUB_BOB: &str = r#"{"login":"bob","id":1002,"node_id":"U_2","type":"User","site_admin":false}"#;

#[test]
fn github_bad_input_is_refused() {
    let big = GITHUB_BOB.replace("}", &format!(r#","name":"{}"}}"#, ten_mb()));
    let valid = json_array(&[GITHUB_ADA, GITHUB_BOB]);
    let cases: Vec<Case> = vec![
        ("empty file", b"".to_vec(), 0, "no records: importing this file would remove every github record"),
        ("truncated file", valid[..valid.len() - 20].to_vec(), 3, "not valid JSON: EOF while parsing"),
        ("not objects", json_array(&[GITHUB_ADA, "42"]), 3, "expected a JSON object (one record), found a number"),
        (
            "not a user, team or membership",
            json_array(&[GITHUB_ADA, r#"{"id":7}"#]),
            3,
            "expected a GitHub user (with login), team (with slug) or organisation membership (with user and role)",
        ),
        (
            "missing id",
            json_array(&[&GITHUB_ADA.replace(r#""id":1001,"#, "")]),
            2,
            "column `id`: missing required field `id` (the user's id)",
        ),
        (
            "id not a whole number",
            json_array(&[&GITHUB_ADA.replace("1001", "10.01")]),
            2,
            "column `id`: expected a whole number, found \"10.01\"",
        ),
        (
            "wrong type",
            json_array(&[&GITHUB_ADA.replace(r#""site_admin":false"#, r#""site_admin":0"#)]),
            2,
            "column `site_admin`: expected true or false, found the number \"0\"",
        ),
        (
            "unknown account type",
            json_array(&[&GITHUB_ADA.replace("\"User\"", "\"Organization\"")]),
            2,
            "column `type`: unknown account type \"Organization\": expected User or Bot",
        ),
        (
            "unknown role",
            json_array(&[&GITHUB_ADA.replace("}", r#","role":"owner"}"#)]),
            2,
            "column `role`: unknown role \"owner\": expected admin, member or billing_manager",
        ),
        ("bad UTF-8", [json_array(&[GITHUB_ADA]), b"\xC3(".to_vec()].concat(), 4, "the file is not UTF-8"),
        (
            "duplicate user id",
            json_array(&[GITHUB_ADA, GITHUB_BOB, &GITHUB_BOB.replace("bob", "rob")]),
            4,
            "column `id`: duplicate user id \"1002\": line 3 has it too",
        ),
        (
            "NUL in a login",
            json_array(&[&GITHUB_ADA.replace("\"ada\"", "\"a\\u0000da\"")]),
            2,
            "column `login`: \"a\\0da\" contains a NUL byte",
        ),
        ("10 MB record", json_array(&[GITHUB_ADA, &big]), 3, "a record of 10485844 bytes; expected at most 1048576"),
        (
            "duplicate team slug",
            json_array(&[GITHUB_ADA, r#"{"id":1,"slug":"core"}"#, r#"{"id":2,"slug":"core"}"#]),
            4,
            "column `slug`: duplicate team slug \"core\": line 3 has it too",
        ),
        (
            "membership of no member",
            json_array(&[GITHUB_ADA, &format!(r#"{{"state":"active","role":"admin","user":{GITHUB_BOB}}}"#)]),
            3,
            "column `user.id`: the membership's user \"bob\" is no member or outside collaborator of this import",
        ),
    ];
    check_refusals("github", "json", &[], &valid, cases);
}

/// A refusal names the file of a filtered listing or a team's member list and its own line.
#[test]
fn github_several_files_and_a_directory() {
    let sandbox = Sandbox::new();
    let dir = sandbox.path("github");
    std::fs::create_dir_all(dir.join("teams/core")).expect("mkdir");
    std::fs::write(dir.join("members.json"), json_array(&[GITHUB_ADA, GITHUB_BOB])).expect("write");
    std::fs::write(dir.join("members-2fa_disabled.json"), json_array(&[GITHUB_BOB])).expect("write");
    std::fs::write(dir.join("teams.json"), br#"[{"id":1,"slug":"core","name":"Core / Platform"}]"#).expect("write");
    std::fs::write(dir.join("teams/core/members.json"), json_array(&[GITHUB_ADA])).expect("write");
    let out = sandbox.annexa(&["import", "github", dir.to_str().expect("UTF-8 path")]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("imported 2 accounts, 1 entitlements, 1 assignments for github"), "{}", stderr(&out));
    let before = state(&sandbox);

    let members = sandbox.write("members.json", json_array(&[GITHUB_ADA]));
    let disabled = sandbox.write("members-2fa_disabled.json", json_array(&[GITHUB_BOB]));
    let out = sandbox.annexa(&["import", "github", members.to_str().expect("path"), disabled.to_str().expect("path")]);
    let problems = refusal_problems(
        &out,
        &disabled,
        2,
        "column `id`: the user without two-factor authentication \"bob\" is no member or outside collaborator",
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(state(&sandbox), before);
}

/// A file with no rows, imported on purpose (`--allow-empty`), retires what its system had:
/// for the streamed kinds too (accounts, assignments), where nothing arrives to retire it.
#[test]
fn an_empty_file_imported_on_purpose_retires_its_system() {
    let sandbox = Sandbox::new();
    let accounts = sandbox.write("accounts.csv", csv(ACCOUNTS_HEADER, &[ACC_ADA, ACC_SVC]));
    let assignments = sandbox.write("assignments.csv", csv(ASSIGNMENTS_HEADER, &[ASG_ADMIN, ASG_READ]));
    for (kind, file) in [("accounts", &accounts), ("assignments", &assignments)] {
        let out = sandbox.import(kind, file, &["--system", "x"]);
        assert!(out.status.success(), "{kind}: {}", stderr(&out));
    }
    let graph =
        || annexa_store::Store::open(&format!("sqlite://{}", sandbox.path("a.db").display())).expect("store").load_graph().expect("graph");
    assert_eq!((graph().accounts.len(), graph().grants.len()), (2, 2), "the graph as imported: u1 holds admins and readers");

    for (kind, header) in [("assignments", ASSIGNMENTS_HEADER), ("accounts", ACCOUNTS_HEADER)] {
        let empty = sandbox.write(&format!("empty-{kind}.csv"), csv(header, &[]));
        let refused = sandbox.import(kind, &empty, &["--system", "x"]);
        assert_eq!(refused.status.code(), Some(2), "{kind}: without --allow-empty: {}", stderr(&refused));
        let out = sandbox.import(kind, &empty, &["--system", "x", "--allow-empty"]);
        assert!(out.status.success(), "{kind}: {}", stderr(&out));
        assert!(stderr(&out).contains("imported no records for x"), "{kind}: {}", stderr(&out));
    }
    let g = graph();
    assert_eq!((g.accounts.len(), g.grants.len(), g.unattached_assignments), (0, 0, 0), "the snapshots");
}
