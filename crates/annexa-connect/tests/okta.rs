//! Okta import: the documented example, a generated org of 5,000 users, and the inputs that
//! must be refused with the file, the line and the field.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

mod common;

use annexa_connect::{parse, ImportBatch, ImportError, ImportKind};
use annexa_core::model::{AccountStatus, AccountType, MfaFactor};

fn import(files: &[(&str, &str)]) -> Result<ImportBatch, ImportError> {
    let files: Vec<(String, String)> = files.iter().map(|(n, c)| (n.to_string(), c.to_string())).collect();
    let (name, bytes, options) = common::concat(&files, None);
    parse(ImportKind::Okta, &name, &bytes, &options)
}

#[test]
fn the_documented_example_imports() {
    let files = common::doc_files("okta");
    let (name, bytes, options) = common::concat(&files, Some("okta"));
    let b = parse(ImportKind::Okta, &name, &bytes, &options).expect("the example imports");
    assert_eq!(b.systems, ["okta"]);
    let accounts: Vec<(&str, &str, Option<&str>, Option<&str>)> =
        b.accounts.iter().map(|a| (a.account_id.as_ref(), a.username.as_str(), a.email.as_deref(), a.employee_id.as_deref())).collect();
    assert_eq!(
        accounts,
        [
            ("00u1ada", "ada.lovelace@example.com", Some("ada.lovelace@example.com"), Some("E1001")),
            ("00u2grace", "grace.hopper@example.com", Some("grace.hopper@example.com"), Some("E1002")),
            ("00u3charles", "charles.babbage@example.com", Some("charles.babbage@example.com"), Some("E1008")),
            ("00u4sync", "svc-okta-sync@example.com", None, None),
        ]
    );
    let mfa: Vec<Option<Vec<MfaFactor>>> = b.accounts.iter().map(|a| a.mfa.clone()).collect();
    assert_eq!(mfa, [Some(vec![MfaFactor::Push, MfaFactor::Webauthn]), Some(vec![MfaFactor::Sms]), Some(vec![MfaFactor::None]), None]);
    let sync = &b.accounts[3];
    assert_eq!(
        (sync.kind, sync.display_name.as_str(), sync.last_login_at, sync.last_login_known),
        (AccountType::Service, "Directory sync", None, true)
    );
    // Each record's line counts through the concatenation: the users file starts at line 1.
    assert_eq!(b.accounts.iter().map(|a| a.origin.line).collect::<Vec<_>>(), [2, 19, 33, 46]);
    let entitlements: Vec<(&str, bool)> = b.entitlements.iter().map(|e| (e.name.as_ref(), e.privileged)).collect();
    assert_eq!(entitlements, [("Everyone", false), ("Engineering", false), ("role:SUPER_ADMIN", true)]);
    let held: Vec<(&str, &str)> = b.assignments.iter().map(|a| (a.account_id.as_ref(), a.entitlement.as_ref())).collect();
    assert_eq!(held, [("00u1ada", "Engineering"), ("00u2grace", "Engineering"), ("00u2grace", "role:SUPER_ADMIN")]);
    // The membership's line is its member's line in the concatenation.
    let users_lines = files[0].1.lines().count() + files[1].1.lines().count();
    assert_eq!(b.assignments[0].origin.line as usize, users_lines + 2);
}

/// A generated org: `n` users in pages of 200, 50 groups with their member lists, factors
/// for every user, admin roles for every 100th.
fn generated_org(n: usize) -> Vec<(String, String)> {
    let mut files = Vec::new();
    let statuses = ["ACTIVE", "ACTIVE", "ACTIVE", "SUSPENDED", "DEPROVISIONED", "LOCKED_OUT", "STAGED"];
    for page in 0..n.div_ceil(200) {
        let users: Vec<String> = (page * 200..((page + 1) * 200).min(n))
            .map(|i| {
                format!(
                    r#"{{"id":"00u{i}","status":"{}","created":"2020-01-01T00:00:00.000Z","lastLogin":{},"profile":{{"login":"user{i}@example.com","email":"User{i}@Example.com","employeeNumber":"E{i}","firstName":"Zoë","lastName":"Nº{i}"}},"_links":{{"self":{{"href":"https://x/api/v1/users/00u{i}"}}}}}}"#,
                    statuses[i % statuses.len()],
                    if i % 10 == 0 { "null".to_string() } else { "\"2026-03-01T10:00:00.000Z\"".to_string() }
                )
            })
            .collect();
        files.push((format!("users-{page:03}.json"), format!("[\n{}\n]\n", users.join(",\n"))));
    }
    let groups: Vec<String> =
        (0..50).map(|g| format!(r#"{{"id":"00g{g}","type":"OKTA_GROUP","profile":{{"name":"Team / {}"}}}}"#, g % 25)).collect();
    files.push(("groups.json".into(), format!("[{}]", groups.join(",\n"))));
    for g in 0..50 {
        let members: Vec<String> =
            (g..n).step_by(50).map(|i| format!(r#"{{"id":"00u{i}","profile":{{"login":"user{i}@example.com"}}}}"#)).collect();
        files.push((format!("groups/00g{g}/users.json"), format!("[\n{}\n]\n", members.join(",\n"))));
    }
    for i in 0..n {
        let factors = match i % 4 {
            0 => "[]".to_string(),
            1 => r#"[{"factorType":"sms","status":"ACTIVE"}]"#.to_string(),
            2 => r#"[{"factorType":"signed_nonce","status":"ACTIVE"},{"factorType":"push","status":"ACTIVE"}]"#.to_string(),
            _ => r#"[{"factorType":"question","status":"ACTIVE"}]"#.to_string(),
        };
        files.push((format!("users/00u{i}/factors.json"), factors));
        if i % 100 == 0 {
            files.push((format!("users-00u{i}-roles.json"), r#"[{"type":"ORG_ADMIN","label":"Organization Administrator"}]"#.to_string()));
        }
    }
    files
}

#[test]
fn a_generated_org_of_5000_users_imports() {
    let files = generated_org(5000);
    let (name, bytes, options) = common::concat(&files, None);
    let t = std::time::Instant::now();
    let b = parse(ImportKind::Okta, &name, &bytes, &options).expect("imports");
    assert!(t.elapsed() < std::time::Duration::from_secs(30), "took {:?}", t.elapsed());
    assert_eq!(b.accounts.len(), 5000);
    assert_eq!(b.entitlements.len(), 51, "50 groups and one role");
    // 25 names shared by two groups each: told apart by id.
    assert!(b.entitlements.iter().any(|e| e.name.as_ref() == "Team / 3 [00g28]"));
    assert_eq!(b.assignments.len(), 5000 + 50);
    assert_eq!(b.accounts.iter().filter(|a| a.status == AccountStatus::Disabled).count(), 3 * (5000 / 7));
    assert_eq!(b.accounts[7].email.as_deref(), Some("user7@example.com"));
    assert_eq!(b.accounts[1].mfa, Some(vec![MfaFactor::Sms]));
    assert_eq!(b.accounts[2].mfa, Some(vec![MfaFactor::Push, MfaFactor::Webauthn]));
    assert_eq!(b.accounts[3].mfa, Some(vec![MfaFactor::None]), "a security question is no second factor");
    // Lines count through the concatenation: user 4999 is on the last page's line 2 + 199.
    let before: usize = files.iter().take(24).map(|(_, c)| c.lines().count()).sum();
    assert_eq!(b.accounts[4999].origin.line as usize, before + 1 + 200);
}

#[test]
fn bad_exports_name_the_file_line_and_field() {
    let ada = r#"{"id":"00u1","status":"ACTIVE","profile":{"login":"ada@example.com"}}"#;
    let bob = r#"{"id":"00u2","status":"SUSPENDED","profile":{"login":"bob@example.com"}}"#;
    let cases: Vec<(Vec<(&str, String)>, &str)> = vec![
        (vec![("users.json", format!("[\n{ada},\n{bob}"))], "users.json:3: not valid JSON: EOF while parsing a list"),
        (
            vec![("users.json", format!("[{ada}]")), ("groups-00g1-users.json", "[\n{\"id\":\"00u9\"}]".into())],
            "groups-00g1-users.json:2: column `id`: member \"00u9\" of group \"00g1\" is no user of this import",
        ),
        (
            vec![("users.json", format!("[{ada},\n{}]", ada.replace("ada@", "ann@")))],
            "users.json:2: column `id`: duplicate user id \"00u1\": line 1 has it too",
        ),
        (
            vec![("users.json", format!("[{ada}]")), ("more.json", format!("[{ada}]"))],
            "more.json:1: column `id`: duplicate user id \"00u1\": users.json line 1 has it too",
        ),
        (
            vec![("users.json", format!("[\n{}]", ada.replace(r#","profile":{"login":"ada@example.com"}"#, "")))],
            "users.json:2: column `profile.login`: missing required field `profile.login` (the user's login)",
        ),
        (
            vec![("users.json", format!("[{}]", ada.replace("\"ACTIVE\"", "\"ZOMBIE\"")))],
            "users.json:1: column `status`: unknown status \"ZOMBIE\": expected one of ACTIVE, PROVISIONED",
        ),
        (
            vec![("users.json", format!("[{}]", ada.replace("\"ACTIVE\"", "7")))],
            "users.json:1: column `status`: expected a string, found the number \"7\"",
        ),
        (
            vec![("users.json", format!("[{}]", ada.replace("00u1", "00u\\u00001")))],
            "users.json:1: column `id`: \"00u\\01\" contains a NUL byte",
        ),
        (
            vec![("users.json", format!("[{}]", ada.replace("}}", r#"},"lastLogin":"yesterday"}"#)))],
            "users.json:1: column `lastLogin`: \"yesterday\" is not a date-time",
        ),
        (
            vec![("users.json", format!("[{ada}]")), ("factors.json", r#"[{"factorType":"sms"}]"#.into())],
            "factors.json:1: column `factorType`: an enrolled factor in a file not named after its user",
        ),
        (
            vec![("users.json", format!("[{ada}]")), ("users/00u7/factors.json", "[]".into())],
            "users/00u7/factors.json:1: the file name says user \"00u7\", who is not among the users read",
        ),
        (vec![("users.json", "[1]".into())], "users.json:1: expected a JSON object (one record), found a number"),
        (vec![("users.json", "\"users\"".into())], "users.json:1: expected a JSON array or object, found \"\\\"users\\\"\""),
        (
            vec![("users.json", format!("[{ada}]")), ("users/00u1/roles.json", r#"[{"label":"x"}]"#.into())],
            "users/00u1/roles.json:1: column `type`: missing required field `type`",
        ),
    ];
    for (files, want) in cases {
        let shown: Vec<(&str, &str)> = files.iter().map(|(n, c)| (*n, c.as_str())).collect();
        let err = import(&shown).expect_err(want).to_string();
        assert!(err.starts_with(want), "\n  got: {err}\n want: {want}");
    }
    let err = parse(ImportKind::Okta, "u.json", b"[{\"id\":\"\xff\"}]", &Default::default()).expect_err("bad utf-8").to_string();
    assert_eq!(err, "u.json:1: the file is not UTF-8 (byte 9 of the line)");
}
