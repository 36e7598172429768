//! Google Workspace import: the documented example (Directory API JSON and the admin
//! console's CSV), a generated account of 5,000 users in both forms, and the inputs that
//! must be refused with the file, the line and the field.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

mod common;

use annexa_connect::google_workspace::{DELEGATED_ADMIN, SUPER_ADMIN};
use annexa_connect::{parse, ImportBatch, ImportError, ImportKind, ImportOptions};
use annexa_core::model::{AccountStatus, MfaFactor};
use annexa_core::time::parse_instant;

fn import(files: &[(&str, &str)]) -> Result<ImportBatch, ImportError> {
    let files: Vec<(String, String)> = files.iter().map(|(n, c)| (n.to_string(), c.to_string())).collect();
    let (name, bytes, options) = common::concat(&files, None);
    parse(ImportKind::GoogleWorkspace, &name, &bytes, &options)
}

#[test]
fn the_documented_example_imports() {
    let (json, csv): (Vec<_>, Vec<_>) = common::doc_files("google-workspace").into_iter().partition(|(n, _)| n.ends_with(".json"));
    let (name, bytes, options) = common::concat(&json, None);
    let b = parse(ImportKind::GoogleWorkspace, &name, &bytes, &options).expect("the example imports");
    assert_eq!(b.systems, ["google-workspace"]);
    type Row<'a> = (&'a str, &'a str, Option<&'a str>, Option<&'a str>, AccountStatus, &'a str);
    let accounts: Vec<Row<'_>> = b
        .accounts
        .iter()
        .map(|a| {
            (a.account_id.as_ref(), a.username.as_str(), a.email.as_deref(), a.employee_id.as_deref(), a.status, a.display_name.as_str())
        })
        .collect();
    assert_eq!(
        accounts,
        [
            ("104857600000000000001", "alan.turing@example.com", None, Some("E1003"), AccountStatus::Enabled, "Alan Turing"),
            ("104857600000000000002", "edsger.dijkstra@example.com", None, Some("E1005"), AccountStatus::Enabled, "Edsger Dijkstra"),
            ("104857600000000000003", "sophie.wilson@example.com", None, None, AccountStatus::Disabled, "Sophie Wilson"),
            ("104857600000000000004", "printer@example.com", None, None, AccountStatus::Enabled, "Office Printer"),
        ]
    );
    assert_eq!(b.accounts[0].last_login_at, parse_instant("2026-03-31T07:58:12Z"));
    assert_eq!((b.accounts[3].last_login_at, b.accounts[3].last_login_known), (None, true), "the epoch means never");
    let mfa: Vec<Option<Vec<MfaFactor>>> = b.accounts.iter().map(|a| a.mfa.clone()).collect();
    let (enrolled, none) = (Some(vec![MfaFactor::Unspecified]), Some(vec![MfaFactor::None]));
    assert_eq!(mfa, [enrolled.clone(), enrolled, none.clone(), none]);
    let entitlements: Vec<(&str, bool)> = b.entitlements.iter().map(|e| (e.name.as_ref(), e.privileged)).collect();
    assert_eq!(entitlements, [("engineering@example.com", false), (SUPER_ADMIN, true), (DELEGATED_ADMIN, true)]);
    let held: Vec<(&str, &str)> = b.assignments.iter().map(|a| (a.account_id.as_ref(), a.entitlement.as_ref())).collect();
    assert_eq!(
        held,
        [
            ("104857600000000000001", "engineering@example.com"),
            ("104857600000000000002", "engineering@example.com"),
            ("104857600000000000001", SUPER_ADMIN),
            ("104857600000000000002", DELEGATED_ADMIN),
        ]
    );
    // Lines count through the concatenation: the members file follows the two others.
    let before: usize = json[..2].iter().map(|(_, c)| c.lines().count()).sum();
    assert_eq!(b.assignments[1].origin.line as usize, before + 5);
    assert_eq!(b.rows, 4 + 1 + 3);

    // The admin console's download of the same users.
    let [(name, text)] = csv.as_slice() else { panic!("one CSV example: {csv:?}") };
    let c = parse(ImportKind::GoogleWorkspace, name, text.as_bytes(), &Default::default()).expect("the CSV example imports");
    type CsvRow<'a> = (&'a str, Option<&'a str>, AccountStatus, &'a str, Option<Vec<MfaFactor>>);
    let accounts: Vec<CsvRow<'_>> = c
        .accounts
        .iter()
        .map(|a| (a.account_id.as_ref(), a.employee_id.as_deref(), a.status, a.display_name.as_str(), a.mfa.clone()))
        .collect();
    assert_eq!(
        accounts,
        [
            ("alan.turing@example.com", Some("E1003"), AccountStatus::Enabled, "Alan Turing", Some(vec![MfaFactor::Unspecified])),
            ("edsger.dijkstra@example.com", Some("E1005"), AccountStatus::Enabled, "Edsger Dijkstra", Some(vec![MfaFactor::Unspecified])),
            ("sophie.wilson@example.com", None, AccountStatus::Disabled, "Sophie Wilson", Some(vec![MfaFactor::None])),
            ("printer@example.com", None, AccountStatus::Enabled, "Office Printer", Some(vec![MfaFactor::None])),
        ]
    );
    let last: Vec<_> = c.accounts.iter().map(|a| a.last_login_at).collect();
    assert_eq!(last, [b.accounts[0].last_login_at, b.accounts[1].last_login_at, b.accounts[2].last_login_at, None]);
    assert_eq!(c.accounts.iter().map(|a| a.origin.line).collect::<Vec<_>>(), [2, 3, 4, 5]);
    assert!(c.entitlements.is_empty() && c.assignments.is_empty());
}

fn user(i: usize) -> String {
    format!(
        r#"{{"kind":"admin#directory#user","id":"1{i:020}","primaryEmail":"user{i}@example.com","name":{{"givenName":"Zoë","familyName":"Nº{i}","fullName":"Zoë Nº{i}"}},"isAdmin":{},"isDelegatedAdmin":false,"lastLoginTime":"{}","creationTime":"2020-01-01T00:00:00.000Z","suspended":{},"archived":{},"isEnrolledIn2Sv":{},"externalIds":[{{"value":"E{i}","type":"organization"}}],"emails":[{{"address":"user{i}@example.com","primary":true}},{{"address":"User{i}@Example.co.uk","type":"work"}}],"orgUnitPath":"/Team {}"}}"#,
        i.is_multiple_of(1000),
        if i.is_multiple_of(10) { "1970-01-01T00:00:00.000Z" } else { "2026-03-01T10:00:00.000Z" },
        i.is_multiple_of(7),
        i.is_multiple_of(11),
        !i.is_multiple_of(3),
        i % 13
    )
}

/// A generated Workspace: `n` users in pages of 500, 30 groups (named alike in pairs, each
/// address its own) whose member lists name the group by id or by address, half of the
/// members by id and half by address.
fn generated_workspace(n: usize) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for (page, start) in (0..n).step_by(500).enumerate() {
        let users: Vec<String> = (start..(start + 500).min(n)).map(user).collect();
        files.push((
            format!("users-{page:03}.json"),
            format!("{{\"kind\":\"admin#directory#users\",\"users\":[\n{}\n],\"nextPageToken\":\"t{page}\"}}\n", users.join(",\n")),
        ));
    }
    files.push(("users-last.json".into(), "{\"kind\":\"admin#directory#users\",\"etag\":\"x\"}\n".into()));
    let groups: Vec<String> = (0..30)
        .map(|g| format!(r#"{{"kind":"admin#directory#group","id":"0g{g}","email":"team-{g}@example.com","name":"Team / {}"}}"#, g % 15))
        .collect();
    files.push(("groups.json".into(), format!("{{\"kind\":\"admin#directory#groups\",\"groups\":[\n{}\n]}}", groups.join(",\n"))));
    for g in 0..30 {
        let members: Vec<String> = (g..n)
            .step_by(30)
            .map(|i| {
                if i % 2 == 0 {
                    format!(r#"{{"kind":"admin#directory#member","id":"1{i:020}","role":"MEMBER","type":"USER"}}"#)
                } else {
                    format!(r#"{{"kind":"admin#directory#member","email":"USER{i}@example.com","role":"MEMBER","type":"USER"}}"#)
                }
            })
            .chain([r#"{"email":"partner@elsewhere.example","type":"EXTERNAL"}"#.to_string()])
            .collect();
        let key = if g % 2 == 0 { format!("0g{g}") } else { format!("team-{g}@example.com") };
        files.push((format!("groups/{key}/members.json"), format!("{{\"members\":[\n{}\n]}}\n", members.join(",\n"))));
    }
    files
}

#[test]
fn a_generated_workspace_of_5000_users_imports() {
    let files = generated_workspace(5000);
    let (name, bytes, options) = common::concat(&files, Some("gws"));
    let t = std::time::Instant::now();
    let b = parse(ImportKind::GoogleWorkspace, &name, &bytes, &options).expect("imports");
    assert!(t.elapsed() < std::time::Duration::from_secs(30), "took {:?}", t.elapsed());
    assert_eq!(b.systems, ["gws"]);
    assert_eq!(b.accounts.len(), 5000);
    assert_eq!(b.entitlements.len(), 31, "30 groups and the super administrators' role");
    assert_eq!(b.entitlements[3].name.as_ref(), "team-3@example.com");
    assert_eq!(b.assignments.len(), 5000 + 5);
    let disabled = (0..5000).filter(|i| i % 7 == 0 || i % 11 == 0).count();
    assert_eq!(b.accounts.iter().filter(|a| a.status == AccountStatus::Disabled).count(), disabled);
    let a = &b.accounts[7];
    assert_eq!(
        (a.email.as_deref(), a.employee_id.as_deref(), a.display_name.as_str()),
        (Some("user7@example.co.uk"), Some("E7"), "Zoë Nº7")
    );
    assert_eq!((b.accounts[0].mfa.clone(), b.accounts[1].mfa.clone()), (Some(vec![MfaFactor::None]), Some(vec![MfaFactor::Unspecified])));
    assert_eq!(b.accounts[10].last_login_at, None);
    // Lines count through the concatenation: user 4999 is on the last page's line 2 + 499.
    let before: usize = files.iter().take(9).map(|(_, c)| c.lines().count()).sum();
    assert_eq!(b.accounts[4999].origin.line as usize, before + 2 + 499);

    // The same users as the admin console's download.
    let mut csv = String::from("First Name [Required],Last Name [Required],Email Address [Required],Employee ID,Status [READ ONLY],Last Sign In [READ ONLY],2sv Enrolled [READ ONLY],Org Unit Path [Required],Email Usage [READ ONLY]\n");
    for i in 0..5000 {
        let status = ["Active", "Suspended", "Archived"][usize::from(i % 7 == 0) + usize::from(i % 11 == 0)];
        let last = if i % 10 == 0 { "Never logged in" } else { "2026/03/01 10:00:00" };
        csv.push_str(&format!(
            "Zoë,\"Nº{i}, Jr\",user{i}@example.com,E{i},{status},{last},{},/Team,0.1GB\n",
            if i % 3 != 0 { "True" } else { "False" }
        ));
    }
    let c = parse(ImportKind::GoogleWorkspace, "users.csv", csv.as_bytes(), &Default::default()).expect("CSV imports");
    assert_eq!((c.accounts.len(), c.rows), (5000, 5000));
    assert_eq!(c.accounts.iter().filter(|a| a.status == AccountStatus::Disabled).count(), disabled);
    assert_eq!(c.accounts[7].display_name, "Zoë Nº7, Jr");
    for (x, y) in b.accounts.iter().zip(&c.accounts) {
        assert_eq!((&x.username, &x.mfa, x.last_login_at, &x.employee_id), (&y.username, &y.mfa, y.last_login_at, &y.employee_id));
    }
}

const HEADER: &str = "First Name [Required],Last Name [Required],Email Address [Required],Status [READ ONLY],Last Sign In [READ ONLY],2sv Enrolled [READ ONLY]";

#[test]
fn bad_exports_name_the_file_line_and_field() {
    let ada = r#"{"id":"1","primaryEmail":"ada@example.com","suspended":false}"#;
    let group = r#"{"id":"g1","email":"staff@example.com"}"#;
    let cases: Vec<(Vec<(&str, String)>, &str)> = vec![
        (vec![("users.json", format!("{{\"users\":[\n{ada},\n"))], "users.json:3: not valid JSON: EOF while parsing"),
        (vec![("users.json", "{\"users\":{}}".into())], "users.json:1: column `users`: expected an array of records under `users`"),
        (vec![("users.json", format!("[{ada},\n{ada}]"))], "users.json:2: column `id`: duplicate user id \"1\": line 1 has it too"),
        (
            vec![("users.json", format!("[\n{}]", ada.replace(r#""primaryEmail":"ada@example.com","#, "")))],
            "users.json:2: column `primaryEmail`: missing required field `primaryEmail` (the user's primary e-mail address)",
        ),
        (
            vec![("users.json", format!("[{}]", ada.replace("false", "\"no\"")))],
            "users.json:1: column `suspended`: expected true or false, found \"no\"",
        ),
        (
            vec![("users.json", format!("[{}]", ada.replace("}", r#","lastLoginTime":"yesterday"}"#)))],
            "users.json:1: column `lastLoginTime`: \"yesterday\" is not a date-time",
        ),
        (
            vec![("users.json", format!("[{}]", ada.replace("\"1\"", "\"1\\u0000\"")))],
            "users.json:1: column `id`: \"1\\0\" contains a NUL byte",
        ),
        (
            vec![("users.json", r#"[{"id":"x","name":"nobody"}]"#.into())],
            "users.json:1: expected a Directory API user (with primaryEmail) or group (with email)",
        ),
        (
            vec![
                ("users.json", format!("[{ada}]")),
                (
                    "members.json",
                    r#"{"kind":"admin#directory#members","members":[{"id":"1","email":"ada@example.com","role":"MEMBER"}]}"#.into(),
                ),
            ],
            "members.json:1: column `kind`: a group member in a file not named after its group",
        ),
        (
            vec![("users.json", format!("[{ada},{group}]")), ("groups/g1/members.json", "[\n{\"id\":\"9\",\"type\":\"USER\"}]".into())],
            "groups/g1/members.json:2: column `id`: member \"9\" of group \"g1\" is no user of this import",
        ),
        (
            vec![("users.json", format!("[{ada}]")), ("groups-staff@example.com-members.json", "[{\"email\":\"bob@example.com\"}]".into())],
            "groups-staff@example.com-members.json:1: column `email`: member \"bob@example.com\" of group \"staff@example.com\" is no user",
        ),
        (vec![("users.json", format!("[{group},\n{group}]"))], "users.json:2: column `id`: duplicate group id \"g1\": line 1 has it too"),
        (
            vec![("users.json", format!("[{ada}]")), ("users.csv", format!("{HEADER}\n"))],
            "users.csv:1: not JSON (the first character is neither `{` nor `[`)",
        ),
        // The admin console's CSV.
        (
            vec![("users.csv", "Email Address [Required],Status [READ ONLY]\nada@example.com,Active\n".into())],
            "users.csv:1: wrong header: missing column(s) Last Sign In [READ ONLY], 2sv Enrolled [READ ONLY]",
        ),
        (
            vec![("users.csv", format!("{HEADER},Status [READ ONLY]\n"))],
            "users.csv:1: column `Status [READ ONLY]`: duplicate column in the header",
        ),
        (
            vec![("users.csv", format!("{HEADER}\nAda,L,ada@example.com,Active,2026/13/01 10:00:00,True\n"))],
            "users.csv:2: column `Last Sign In [READ ONLY]`: \"2026/13/01 10:00:00\" is not a date-time",
        ),
        (
            vec![("users.csv", format!("{HEADER}\nAda,L,ada@example.com,Enabled,,True\n"))],
            "users.csv:2: column `Status [READ ONLY]`: unknown status \"Enabled\": expected Active, Suspended or Archived",
        ),
        (
            vec![("users.csv", format!("{HEADER}\nAda,L,ada,Active,,True\n"))],
            "users.csv:2: column `Email Address [Required]`: \"ada\" is not an e-mail address",
        ),
        (
            vec![("users.csv", format!("{HEADER}\nAda,L,ada@example.com,Active,,Maybe\n"))],
            "users.csv:2: column `2sv Enrolled [READ ONLY]`: \"Maybe\" is not a boolean",
        ),
        (
            vec![("users.csv", format!("{HEADER}\nAda,L,ada@example.com,Active,,True\nAda,L,ADA@example.com,Active,,True\n"))],
            "users.csv:3: column `Email Address [Required]`: duplicate user \"ada@example.com\": already on line 2",
        ),
    ];
    for (files, want) in cases {
        let shown: Vec<(&str, &str)> = files.iter().map(|(n, c)| (*n, c.as_str())).collect();
        let err = import(&shown).expect_err(want).to_string();
        assert!(err.starts_with(want), "\n  got: {err}\n want: {want}");
    }
}

#[test]
fn a_lenient_csv_import_sets_bad_rows_aside() {
    let csv = format!("\u{feff}{HEADER}\nAda,L,ada@example.com,Active,2026/03/01 10:00,True\nBob,B,bob@example.com,Gone,,False\nCy,C,cy@example.com,Suspended,2026-02-01T00:00:00Z,\n");
    let options = ImportOptions { lenient: true, ..Default::default() };
    let b = parse(ImportKind::GoogleWorkspace, "users.csv", csv.as_bytes(), &options).expect("lenient");
    assert_eq!(b.accounts.iter().map(|a| a.username.as_str()).collect::<Vec<_>>(), ["ada@example.com", "cy@example.com"]);
    assert_eq!(b.accounts[1].mfa, None, "an empty 2sv column is not judged");
    assert_eq!(b.rows, 3);
    assert_eq!(b.refused.len(), 1);
    assert_eq!((b.refused[0].line, b.refused[0].column.as_deref(), b.refused[0].value.as_str()), (3, Some("Status [READ ONLY]"), "Gone"));
    let err = parse(ImportKind::GoogleWorkspace, "users.csv", csv.as_bytes(), &Default::default()).expect_err("strict").to_string();
    assert!(err.starts_with("users.csv:3: column `Status [READ ONLY]`: unknown status"), "{err}");
}
