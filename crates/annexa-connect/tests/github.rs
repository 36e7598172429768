//! GitHub import: the documented example, a generated organisation of 5,000 members, and
//! the inputs that must be refused with the file, the line and the field.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

mod common;

use annexa_connect::github::{BILLING_MANAGER, OUTSIDE_COLLABORATOR, OWNER, SITE_ADMIN};
use annexa_connect::{parse, ImportBatch, ImportError, ImportKind};
use annexa_core::model::{AccountType, MfaFactor};

fn import(files: &[(&str, &str)]) -> Result<ImportBatch, ImportError> {
    let files: Vec<(String, String)> = files.iter().map(|(n, c)| (n.to_string(), c.to_string())).collect();
    let (name, bytes, options) = common::concat(&files, None);
    parse(ImportKind::Github, &name, &bytes, &options)
}

fn held(b: &ImportBatch) -> Vec<(&str, &str)> {
    b.assignments.iter().map(|a| (a.account_id.as_ref(), a.entitlement.as_ref())).collect()
}

#[test]
fn the_documented_example_imports() {
    let files = common::doc_files("github");
    let (name, bytes, options) = common::concat(&files, None);
    let b = parse(ImportKind::Github, &name, &bytes, &options).expect("the example imports");
    assert_eq!(b.systems, ["github"]);
    type Row<'a> = (&'a str, &'a str, Option<&'a str>, AccountType, &'a str, Option<Vec<MfaFactor>>);
    let accounts: Vec<Row<'_>> = b
        .accounts
        .iter()
        .map(|a| (a.account_id.as_ref(), a.username.as_str(), a.email.as_deref(), a.kind, a.display_name.as_str(), a.mfa.clone()))
        .collect();
    let (on, off) = (Some(vec![MfaFactor::Unspecified]), Some(vec![MfaFactor::None]));
    assert_eq!(
        accounts,
        [
            ("1024001", "aturing", None, AccountType::Human, "aturing", on.clone()),
            ("1024002", "grace-codes", Some("grace.hopper@example.com"), AccountType::Human, "Grace Hopper", on.clone()),
            ("1024003", "kjohnson", None, AccountType::Human, "kjohnson", off),
            ("1024004", "example-deploy[bot]", None, AccountType::Service, "example-deploy[bot]", on),
            ("2048001", "lin-partner", None, AccountType::Human, "lin-partner", None),
        ]
    );
    assert!(b.accounts.iter().all(|a| a.is_enabled() && !a.last_login_known && a.employee_id.is_none()));
    let entitlements: Vec<(&str, bool)> = b.entitlements.iter().map(|e| (e.name.as_ref(), e.privileged)).collect();
    assert_eq!(entitlements, [("team:platform", false), ("team:platform-oncall", false), (OWNER, true), (OUTSIDE_COLLABORATOR, false)]);
    assert_eq!(
        held(&b),
        [
            ("1024001", OWNER),
            ("2048001", OUTSIDE_COLLABORATOR),
            ("1024001", "team:platform"),
            ("1024002", "team:platform"),
            ("1024003", "team:platform"),
        ]
    );
    // The membership's line counts through the concatenation.
    let before: usize = files[..3].iter().map(|(_, c)| c.lines().count()).sum();
    assert_eq!(b.assignments[0].origin.line as usize, before + 1);
}

fn user(i: usize) -> String {
    format!(
        r#"{{"login":"user-{i}","id":{},"node_id":"U_{i}","type":"{}","site_admin":{},"url":"https://api.github.com/users/user-{i}"}}"#,
        1_000_000 + i,
        if i.is_multiple_of(500) { "Bot" } else { "User" },
        i == 4242
    )
}

/// A generated organisation: `n` members in pages of 100, 100 outside collaborators, the
/// owners as a `role=admin` listing and as memberships, the 2FA listings, 40 teams with
/// their member lists (by directory and by one name).
fn generated_org(n: usize) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for (page, start) in (0..n).step_by(100).enumerate() {
        let users: Vec<String> = (start..(start + 100).min(n)).map(user).collect();
        files.push((format!("members-{page:03}.json"), format!("[\n{}\n]\n", users.join(",\n"))));
    }
    let outside: Vec<String> = (n..n + 100).map(user).collect();
    files.push(("outside_collaborators.json".into(), format!("[\n{}\n]\n", outside.join(",\n"))));
    let owners: Vec<String> = (0..n).step_by(1000).map(user).collect();
    files.push(("members?role=admin.json".into(), format!("[{}]", owners.join(","))));
    for i in (500..n).step_by(1000) {
        files.push((
            format!("memberships/user-{i}.json"),
            format!(r#"{{"state":"active","role":"{}","user":{}}}"#, if i % 2000 == 500 { "admin" } else { "billing_manager" }, user(i)),
        ));
    }
    let disabled: Vec<String> = (0..n).step_by(3).map(user).collect();
    files.push(("members-2FA-disabled.json".into(), format!("[\n{}\n]\n", disabled.join(",\n"))));
    let insecure: Vec<String> = (1..n).step_by(3).map(user).collect();
    files.push(("members?filter=2fa_insecure.json".into(), format!("[\n{}\n]\n", insecure.join(",\n"))));
    files.push(("outside_collaborators-2fa_disabled.json".into(), format!("[{}]", user(n))));
    let teams: Vec<String> = (0..40)
        .map(|t| format!(r#"{{"id":{t},"slug":"team-{t}","name":"Team / {}","permission":"pull","parent":null}}"#, t % 20))
        .collect();
    files.push(("teams.json".into(), format!("[\n{}\n]\n", teams.join(",\n"))));
    for t in 0..40 {
        let members: Vec<String> = (t..n).step_by(40).map(user).collect();
        let name = if t % 2 == 0 { format!("teams/team-{t}/members.json") } else { format!("teams-team-{t}-members.json") };
        files.push((name, format!("[\n{}\n]\n", members.join(",\n"))));
    }
    files
}

#[test]
fn a_generated_org_of_5000_members_imports() {
    let files = generated_org(5000);
    let (name, bytes, options) = common::concat(&files, Some("github-example"));
    let t = std::time::Instant::now();
    let b = parse(ImportKind::Github, &name, &bytes, &options).expect("imports");
    assert!(t.elapsed() < std::time::Duration::from_secs(30), "took {:?}", t.elapsed());
    assert_eq!(b.systems, ["github-example"]);
    assert_eq!(b.accounts.len(), 5100);
    assert_eq!(b.accounts.iter().filter(|a| a.kind == AccountType::Service).count(), 11);
    let privileged: Vec<&str> = b.entitlements.iter().filter(|e| e.privileged).map(|e| e.name.as_ref()).collect();
    assert_eq!(privileged, [OWNER, SITE_ADMIN]);
    assert_eq!(b.entitlements.len(), 40 + 4, "teams, owners, billing managers, site admins, outside collaborators");
    let count = |e: &str| b.assignments.iter().filter(|a| a.entitlement.as_ref() == e).count();
    assert_eq!((count(OWNER), count(BILLING_MANAGER), count(SITE_ADMIN), count(OUTSIDE_COLLABORATOR)), (5 + 3, 2, 1, 100));
    assert_eq!(b.assignments.len(), 8 + 2 + 1 + 100 + 5000);
    let mfa = |i: usize| b.accounts[i].mfa.clone();
    assert_eq!((mfa(0), mfa(1), mfa(2)), (Some(vec![MfaFactor::None]), Some(vec![MfaFactor::Sms]), Some(vec![MfaFactor::Unspecified])));
    assert_eq!((mfa(5000), mfa(5001)), (Some(vec![MfaFactor::None]), Some(vec![MfaFactor::Unspecified])));
    assert_eq!(b.accounts[4999].account_id.as_ref(), "1004999");
    // Lines count through the concatenation: member 4999 is on the last page's line 2 + 99.
    let before: usize = files.iter().take(49).map(|(_, c)| c.lines().count()).sum();
    assert_eq!(b.accounts[4999].origin.line as usize, before + 2 + 99);
}

#[test]
fn bad_exports_name_the_file_line_and_field() {
    let ada = r#"{"login":"ada","id":1,"type":"User"}"#;
    let bob = r#"{"login":"bob","id":2,"type":"User"}"#;
    let cases: Vec<(Vec<(&str, String)>, &str)> = vec![
        (vec![("members.json", format!("[\n{ada},\n{bob}"))], "members.json:3: not valid JSON: EOF while parsing"),
        (vec![("members.json", format!("[{ada},\n{ada}]"))], "members.json:2: column `id`: duplicate user id \"1\": line 1 has it too"),
        (vec![("members.json", format!("[{ada}]")), ("outside_collaborators.json", format!("[\n{ada}]"))], "outside_collaborators.json:2: column `id`: duplicate user id \"1\": members.json line 1 has it too"),
        (vec![("members.json", format!("[\n{}]", ada.replace("1", "1.5")))], "members.json:2: column `id`: expected a whole number, found \"1.5\""),
        (vec![("members.json", format!("[{}]", ada.replace(r#""login":"ada","#, "")))], "members.json:1: expected a GitHub user (with login), team (with slug) or organisation membership"),
        (vec![("members.json", format!("[{}]", ada.replace(r#""login":"ada""#, r#""login":"""#)))], "members.json:1: column `login`: missing required field `login` (the user's login)"),
        (vec![("members.json", format!("[{}]", ada.replace("User", "Organization")))], "members.json:1: column `type`: unknown account type \"Organization\": expected User or Bot"),
        (vec![("members.json", format!("[{}]", ada.replace("}", r#","role":"owner"}"#)))], "members.json:1: column `role`: unknown role \"owner\": expected admin, member or billing_manager"),
        (vec![("members.json", format!("[{}]", ada.replace("\"ada\"", "\"a\\u0000da\"")))], "members.json:1: column `login`: \"a\\0da\" contains a NUL byte"),
        (vec![("members.json", format!("[{}]", ada.replace("}", r#","site_admin":"no"}"#)))], "members.json:1: column `site_admin`: expected true or false, found \"no\""),
        (
            vec![("members.json", format!("[{ada}]")), ("members-2fa_disabled.json", format!("[\n{bob}]"))],
            "members-2fa_disabled.json:2: column `id`: the user without two-factor authentication \"bob\" is no member or outside collaborator",
        ),
        (
            vec![("members.json", format!("[{ada}]")), ("m.json", format!(r#"{{"state":"active","role":"admin","user":{bob}}}"#))],
            "m.json:1: column `user.id`: the membership's user \"bob\" is no member or outside collaborator",
        ),
        (
            vec![("members.json", format!("[{ada}]")), ("m.json", format!(r#"[{{"role":"admin","user":{ada}}},{{"role":"member","user":{ada}}}]"#))],
            "m.json:1: column `user.id`: duplicate membership of user \"1\"",
        ),
        (
            vec![("members.json", format!("[{ada}]")), ("teams/core/members.json", format!("[{ada},\n{bob}]"))],
            "teams/core/members.json:2: column `id`: the team's member \"bob\" is no member or outside collaborator of this import",
        ),
        (
            vec![("members.json", r#"[{"slug":"core","id":1},{"slug":"core","id":2}]"#.into())],
            "members.json:1: column `slug`: duplicate team slug \"core\": line 1 has it too",
        ),
        (
            vec![("outside_collaborators.json", r#"[{"slug":"core","id":1}]"#.into())],
            "outside_collaborators.json:1: expected an outside collaborator (a user with login)",
        ),
    ];
    for (files, want) in cases {
        let shown: Vec<(&str, &str)> = files.iter().map(|(n, c)| (*n, c.as_str())).collect();
        let err = import(&shown).expect_err(want).to_string();
        assert!(err.starts_with(want), "\n  got: {err}\n want: {want}");
    }
}
