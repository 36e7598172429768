//! Microsoft Entra ID import: the documented example, a generated tenant of 5,000 users,
//! and the inputs that must be refused with the file, the line and the field.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

mod common;

use annexa_connect::entra::ADMIN_PER_REPORT;
use annexa_connect::{parse, ImportBatch, ImportError, ImportKind};
use annexa_core::model::{AccountStatus, MfaFactor};

fn import(files: &[(&str, &str)]) -> Result<ImportBatch, ImportError> {
    let files: Vec<(String, String)> = files.iter().map(|(n, c)| (n.to_string(), c.to_string())).collect();
    let (name, bytes, options) = common::concat(&files, None);
    parse(ImportKind::Entra, &name, &bytes, &options)
}

#[test]
fn the_documented_example_imports() {
    let files = common::doc_files("entra");
    let (name, bytes, options) = common::concat(&files, None);
    let b = parse(ImportKind::Entra, &name, &bytes, &options).expect("the example imports");
    assert_eq!(b.systems, ["entra"]);
    type Row<'a> = (&'a str, Option<&'a str>, Option<&'a str>, AccountStatus, bool);
    let accounts: Vec<Row<'_>> = b
        .accounts
        .iter()
        .map(|a| (a.username.as_str(), a.email.as_deref(), a.employee_id.as_deref(), a.status, a.last_login_known))
        .collect();
    assert_eq!(
        accounts,
        [
            ("ada.lovelace@example.com", Some("ada.lovelace@example.com"), Some("E1001"), AccountStatus::Enabled, true),
            ("mary.somerville@example.com", Some("mary.somerville@example.com"), Some("E1007"), AccountStatus::Enabled, true),
            ("lin_partner.example#EXT#@example.onmicrosoft.com", Some("lin@partner.example"), None, AccountStatus::Enabled, true),
            ("hedy.lamarr@example.com", Some("hedy.lamarr@example.com"), Some("E1009"), AccountStatus::Disabled, true),
        ]
    );
    assert_eq!(b.accounts[0].account_id.as_ref(), "6e7b768e-07e2-4810-8459-485f84f8f204");
    assert_eq!(b.accounts[0].last_login_at, annexa_core::time::parse_instant("2026-03-31T08:01:00Z"));
    assert_eq!(b.accounts[3].last_login_at, None, "never signed in");
    let mfa: Vec<Option<Vec<MfaFactor>>> = b.accounts.iter().map(|a| a.mfa.clone()).collect();
    assert_eq!(mfa, [Some(vec![MfaFactor::Push, MfaFactor::Webauthn]), Some(vec![MfaFactor::Sms]), Some(vec![MfaFactor::None]), None]);
    let entitlements: Vec<(&str, bool)> = b.entitlements.iter().map(|e| (e.name.as_ref(), e.privileged)).collect();
    assert_eq!(entitlements, [("Finance", false), ("role:Global Administrator", true), (ADMIN_PER_REPORT, true)]);
    let held: Vec<(&str, &str)> = b.assignments.iter().map(|a| (a.account_id.as_ref(), a.entitlement.as_ref())).collect();
    assert_eq!(
        held,
        [
            ("87d349ed-44d7-43e1-9a83-5f2406dee5bd", "Finance"),
            ("b2c8f5a1-93d4-4e6f-8a7b-1c2d3e4f5a6b", "Finance"),
            ("6e7b768e-07e2-4810-8459-485f84f8f204", "role:Global Administrator"),
            ("87d349ed-44d7-43e1-9a83-5f2406dee5bd", ADMIN_PER_REPORT),
        ]
    );
    // The second page's user is on its line 4, after the first page's lines.
    assert_eq!(b.accounts[3].origin.line as usize, files[0].1.lines().count() + 4);
}

fn guid(i: usize) -> String {
    format!("{:08x}-0000-4000-8000-{:012x}", i, i)
}

/// A generated tenant: `n` users in Graph pages of 999, 40 groups with member lists of
/// their own, two roles, and the registration report in pages.
fn generated_tenant(n: usize) -> Vec<(String, String)> {
    let mut files = Vec::new();
    let context =
        r#""@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users(id,userPrincipalName,accountEnabled,signInActivity)""#;
    for (page, start) in (0..n).step_by(999).enumerate() {
        let users: Vec<String> = (start..(start + 999).min(n))
            .map(|i| {
                format!(
                    r#"{{"id":"{}","userPrincipalName":"user{i}@example.com","mail":"User{i}@example.com","employeeId":"E{i}","accountEnabled":{},"userType":"{}","signInActivity":{{"lastSignInDateTime":"2026-03-0{}T10:00:00Z","lastSuccessfulSignInDateTime":{}}}}}"#,
                    guid(i),
                    i % 9 != 0,
                    if i % 50 == 0 { "Guest" } else { "Member" },
                    1 + i % 9,
                    if i % 3 == 0 { "null".to_string() } else { "\"2026-02-01T00:00:00Z\"".to_string() }
                )
            })
            .collect();
        let next = if start + 999 < n { r#","@odata.nextLink":"https://graph.microsoft.com/v1.0/users?$skiptoken=x""# } else { "" };
        files.push((format!("users/page-{page:02}.json"), format!("{{{context},\"value\":[\n{}\n]{next}}}\n", users.join(",\n"))));
    }
    let groups: Vec<String> =
        (0..40).map(|g| format!(r#"{{"id":"{}","displayName":"Ünit {}","securityEnabled":true}}"#, guid(100_000 + g), g % 30)).collect();
    files.push(("groups.json".into(), format!("{{\"value\":[{}]}}", groups.join(",\n"))));
    for g in 0..40 {
        let members: Vec<String> =
            (g..n).step_by(40).map(|i| format!(r##"{{"@odata.type":"#microsoft.graph.user","id":"{}"}}"##, guid(i))).collect();
        files.push((format!("groups/{}/members.json", guid(100_000 + g)), format!("{{\"value\":[\n{}\n]}}", members.join(",\n"))));
    }
    let admins: Vec<String> = (0..n).step_by(250).map(|i| format!(r#"{{"id":"{}"}}"#, guid(i))).collect();
    files.push((
        "directoryRoles.json".into(),
        format!(r#"[{{"id":"{}","displayName":"Global Administrator","roleTemplateId":"62e90394-69f5-4237-9190-012177145e10","members":[{}]}}]"#, guid(200_000), admins.join(",")),
    ));
    files.push((
        "roleAssignments.json".into(),
        format!(r#"{{"value":[{{"principalId":"{}","roleDefinitionId":"62e90394-69f5-4237-9190-012177145e10"}},{{"principalId":"{}","roleDefinitionId":"x","roleDefinition":{{"displayName":"User Administrator"}}}},{{"principalId":"{}","roleDefinitionId":"x"}}]}}"#, guid(1), guid(2), guid(100_003)),
    ));
    let methods = [
        r#"[]"#,
        r#"["mobilePhone","email"]"#,
        r#"["microsoftAuthenticatorPush","softwareOneTimePasscode"]"#,
        r#"["windowsHelloForBusiness"]"#,
    ];
    let report: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"id":"{}","userPrincipalName":"user{i}@example.com","isAdmin":{},"methodsRegistered":{}}}"#,
                guid(i),
                i % 1000 == 7,
                methods[i % 4]
            )
        })
        .collect();
    files.push((
        "registration.json".into(),
        format!("{{\"@odata.context\":\"https://graph.microsoft.com/v1.0/$metadata#reports/authenticationMethods/userRegistrationDetails\",\"value\":[\n{}\n]}}", report.join(",\n")),
    ));
    files
}

#[test]
fn a_generated_tenant_of_5000_users_imports() {
    let files = generated_tenant(5000);
    let (name, bytes, options) = common::concat(&files, Some("entra-prod"));
    let b = parse(ImportKind::Entra, &name, &bytes, &options).expect("imports");
    assert_eq!(b.systems, ["entra-prod"]);
    assert_eq!(b.accounts.len(), 5000);
    assert_eq!(b.accounts.iter().filter(|a| !a.is_enabled()).count(), 5000usize.div_ceil(9));
    // 10 names shared by two groups each; role entitlements after the groups.
    let names: Vec<&str> = b.entitlements.iter().map(|e| e.name.as_ref()).collect();
    assert_eq!(names.len(), 40 + 3);
    assert!(names.contains(&format!("Ünit 3 [{}]", guid(100_003)).as_str()), "{names:?}");
    assert_eq!(&names[40..], ["role:Global Administrator", "role:User Administrator", ADMIN_PER_REPORT]);
    // Group 100003 holds a role: privileged.
    assert!(b.entitlements.iter().find(|e| e.name.as_ref().ends_with(&format!("[{}]", guid(100_003)))).expect("group").privileged);
    let held = |e: &str| b.assignments.iter().filter(|a| a.entitlement.as_ref() == e).count();
    assert_eq!(held("role:Global Administrator"), 21, "20 members of the role, and user 1 by assignment");
    assert_eq!(held("role:User Administrator"), 1);
    assert_eq!(held(ADMIN_PER_REPORT), 5, "isAdmin users without a role");
    assert_eq!(b.accounts[1].mfa, Some(vec![MfaFactor::Sms, MfaFactor::Email]));
    assert_eq!(b.accounts[3].mfa, Some(vec![MfaFactor::Webauthn]));
    assert_eq!(
        b.accounts[3].last_login_at,
        annexa_core::time::parse_instant("2026-03-04T10:00:00Z"),
        "no successful sign-in reported: the last attempt"
    );
    assert_eq!(b.accounts[4].last_login_at, annexa_core::time::parse_instant("2026-02-01T00:00:00Z"), "the last successful sign-in");
}

#[test]
fn bad_exports_name_the_file_line_and_field() {
    let ada = r#"{"id":"u1","userPrincipalName":"ada@example.com","accountEnabled":true}"#;
    let page = |records: &[&str]| format!("{{\"value\":[\n{}\n]}}", records.join(",\n"));
    let cases: Vec<(Vec<(&str, String)>, &str)> = vec![
        (vec![("users.json", page(&[ada]).replace("\n]}", ""))], "users.json:2: not valid JSON: EOF while parsing"),
        (
            vec![("users.json", r#"{"value":{"id":"u1"}}"#.into())],
            "users.json:1: column `value`: expected an array of records under `value`",
        ),
        (
            vec![("users.json", page(&[&ada.replace(r#","accountEnabled":true"#, "")]))],
            "users.json:2: column `accountEnabled`: missing required field `accountEnabled`: select it",
        ),
        (
            vec![("users.json", page(&[&ada.replace("true", "\"yes\"")]))],
            "users.json:2: column `accountEnabled`: expected true or false, found \"yes\"",
        ),
        (vec![("users.json", page(&[ada, ada]))], "users.json:3: column `id`: duplicate user id \"u1\": line 2 has it too"),
        (
            vec![("users.json", page(&[&ada.replace("}", r#","userType":"Robot"}"#)]))],
            "users.json:2: column `userType`: unknown user type \"Robot\": expected Member or Guest",
        ),
        (
            vec![("users.json", page(&[ada, r#"{"id":"x","displayName":"?"}"#]))],
            "users.json:3: expected a Microsoft Graph user (with userPrincipalName), group",
        ),
        (
            vec![("users.json", page(&[ada])), ("groups/g1/members.json", page(&[r#"{"id":"u9"}"#]))],
            "groups/g1/members.json:2: column `id`: member \"u9\" of \"g1\" is no user of this import",
        ),
        (
            vec![
                ("users.json", page(&[ada])),
                ("report.json", page(&[r#"{"userPrincipalName":"bob@example.com","methodsRegistered":[]}"#])),
            ],
            "report.json:2: column `userPrincipalName`: \"bob@example.com\" is no user of this import",
        ),
        (
            vec![("users.json", page(&[ada])), ("report.json", page(&[r#"{"id":"u1","methodsRegistered":"fido2"}"#]))],
            "report.json:2: column `methodsRegistered`: expected an array, found \"fido2\"",
        ),
        (
            vec![("users.json", page(&[&ada.replace("}", r#","createdDateTime":"last year"}"#)]))],
            "users.json:2: column `createdDateTime`: \"last year\" is not a date-time",
        ),
        (vec![("users.json", page(&[&ada.replace("u1", "u\\u0000")]))], "users.json:2: column `id`: \"u\\0\" contains a NUL byte"),
    ];
    for (files, want) in cases {
        let shown: Vec<(&str, &str)> = files.iter().map(|(n, c)| (*n, c.as_str())).collect();
        let err = import(&shown).expect_err(want).to_string();
        assert!(err.starts_with(want), "\n  got: {err}\n want: {want}");
    }
}
