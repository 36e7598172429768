//! Accounts named by e-mail address, end to end through the real importers: an IAM user, a
//! SCIM `userName`, an Okta `login`, an Entra ID `userPrincipalName` or a Google
//! `primaryEmail` that is an address links to the person whose HR e-mail it is, ignoring
//! case and Unicode forms; an address two people share links to no one, and the finding
//! says why; a leaver's AWS user is found by leaver-access.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

use std::path::Path;
use std::process::{Command, Output};

const HR: &str = "employee_id,email,given_name,family_name,department,title,manager_id,location,worker_type,status,start_date,end_date\n\
E1,ada.lovelace@example.com,Ada,Lovelace,Engineering,Engineer,,London,employee,active,2020-01-01,\n\
E2,\u{c5}SA.Berg@Example.com,\u{c5}sa,Berg,Finance,Controller,E1,Malm\u{f6},employee,terminated,2019-05-01,2026-10-01\n\
E3,team@example.com,Kim,Ng,Sales,Rep,E1,Oslo,employee,active,2021-01-01,\n\
E4,team@example.com,Lee,Ng,Sales,Rep,E1,Oslo,employee,active,2021-01-01,\n";

const AWS_HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

/// An IAM user with a console password, used recently, with MFA.
fn iam_user(name: &str) -> String {
    format!(
        "{name},arn:aws:iam::123456789012:user/{name},2022-01-01T10:00:00+00:00,true,2026-11-20T08:00:00+00:00,2026-09-01T09:00:00+00:00,N/A,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"
    )
}

fn annexa(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_annexa")).args(["--db", db]).args(args).output().expect("annexa runs")
}

fn import(db: &str, dir: &Path, kind: &str, file: &str, system: &str) {
    let path = dir.join(file);
    let mut args = vec!["import", kind, path.to_str().expect("utf8")];
    if !system.is_empty() {
        args.extend(["--system", system]);
    }
    let out = annexa(db, &args);
    assert!(out.status.success(), "{db}: import {kind}: {}", String::from_utf8_lossy(&out.stderr));
}

/// `(check, subject key, message)` of every open finding.
fn findings(db: &str) -> Vec<(String, String, String)> {
    let out = annexa(db, &["--format", "json", "findings", "list"]);
    assert!(out.status.success(), "{db}: {}", String::from_utf8_lossy(&out.stderr));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    list.as_array()
        .expect("array")
        .iter()
        .map(|f| {
            let s = |v: &serde_json::Value| v.as_str().expect("text").to_string();
            (s(&f["check"]), s(&f["subject"]["key"]), s(&f["message"]))
        })
        .collect()
}

#[test]
fn logins_that_are_e_mail_addresses_link_to_their_person() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::write(d.join("hr.csv"), HR).expect("hr");
    let users = ["ada.lovelace@EXAMPLE.com", "\u{e5}sa.berg@example.com", "team@example.com", "stranger@example.com"];
    let mut report = String::from(AWS_HEADER);
    for u in users {
        report.push('\n');
        report.push_str(&iam_user(u));
    }
    report.push('\n');
    std::fs::write(d.join("aws.csv"), report).expect("aws");
    // A SCIM application whose userName is the address and that sends no e-mails.
    let scim = "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"id\":\"u1\",\"userName\":\"A\u{30a}SA.BERG@example.com\",\"active\":true}\n\
                {\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"id\":\"u2\",\"userName\":\"Team@Example.com\",\"active\":true}\n";
    std::fs::write(d.join("app.jsonl"), scim).expect("scim");
    // The identity providers' own exports: a login (Okta `login`, Entra `userPrincipalName`,
    // Google `primaryEmail`) that is the address, and no e-mail field.
    let okta = r#"[{"id":"00u1","status":"ACTIVE","created":"2020-01-01T00:00:00.000Z","lastLogin":"2026-11-20T08:00:00.000Z",
        "profile":{"firstName":"Åsa","lastName":"Berg","login":"ÅSA.BERG@example.com"}},
      {"id":"00u2","status":"ACTIVE","created":"2020-01-01T00:00:00.000Z","lastLogin":"2026-11-20T08:00:00.000Z",
        "profile":{"firstName":"Kim","lastName":"Ng","login":"team@example.com"}}]"#;
    std::fs::write(d.join("okta-users.json"), okta).expect("okta");
    let entra = r#"{"value":[{"id":"e1","userPrincipalName":"Asa.Berg@example.com","accountEnabled":true,"userType":"Member",
        "createdDateTime":"2020-01-01T00:00:00Z"},
      {"id":"e2","userPrincipalName":"åsa.berg@example.com","accountEnabled":true,"userType":"Member","createdDateTime":"2020-01-01T00:00:00Z"}]}"#;
    std::fs::write(d.join("entra-users.json"), entra).expect("entra");
    let google = r#"{"kind":"admin#directory#users","users":[{"id":"g1","primaryEmail":"åsa.berg@EXAMPLE.com","suspended":false,
        "creationTime":"2020-01-01T00:00:00.000Z","lastLoginTime":"2026-11-20T08:00:00.000Z","name":{"fullName":"Åsa Berg"}}]}"#;
    std::fs::write(d.join("google-users.json"), google).expect("google");

    for db in annexa_store::testing::fresh_databases(d) {
        import(&db, d, "hr", "hr.csv", "");
        import(&db, d, "aws-credential-report", "aws.csv", "aws-prod");
        import(&db, d, "scim", "app.jsonl", "crm");
        import(&db, d, "okta", "okta-users.json", "");
        import(&db, d, "entra", "entra-users.json", "");
        import(&db, d, "google-workspace", "google-users.json", "");
        let out = annexa(&db, &["audit", "--as-of", "2026-12-01"]);
        assert!(out.status.success(), "{db}: {}", String::from_utf8_lossy(&out.stderr));
        let found = findings(&db);
        let of = |check: &str| -> Vec<(&str, &str)> {
            let mut v: Vec<(&str, &str)> =
                found.iter().filter(|(c, _, _)| c == check).map(|(_, k, m)| (k.as_str(), m.as_str())).collect();
            v.sort();
            v
        };

        // The leaver's IAM user, SCIM account and identity provider accounts are hers:
        // leaver-access finds each. `Asa.Berg@…` is another address (no Å): no one's.
        let leavers = of("leaver-access");
        let keys: Vec<&str> = leavers.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            keys,
            ["aws-prod/\u{e5}sa.berg@example.com", "crm/A\u{30a}SA.BERG@example.com", "entra/e2", "google-workspace/g1", "okta/00u1"],
            "{db}: {leavers:?}"
        );
        assert!(leavers.iter().all(|(_, m)| m.contains("\u{c5}sa Berg left on 2026-10-01")), "{db}: {leavers:?}");

        // Ada's user is hers (not orphaned); the shared address and the stranger are no one's,
        // and the finding says why.
        let orphans = of("orphaned-account");
        let keys: Vec<&str> = orphans.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            keys,
            ["aws-prod/stranger@example.com", "aws-prod/team@example.com", "crm/Team@Example.com", "entra/e1", "okta/00u2"],
            "{db}: {orphans:?}"
        );
        assert!(orphans[4].1.contains("login team@example.com, an e-mail address, belongs to more than one person"), "{db}: {orphans:?}");
        assert!(orphans[0].1.contains("login stranger@example.com, an e-mail address, matches no one in the HR feed"), "{db}: {orphans:?}");
        assert!(
            orphans[1].1.contains("login team@example.com, an e-mail address, belongs to more than one person in the HR feed, so it links to no one"),
            "{db}: {orphans:?}"
        );
        assert!(orphans[2].1.contains("login Team@Example.com, an e-mail address, belongs to more than one person"), "{db}: {orphans:?}");
    }
}
