//! A campaign's revocation carried out on a real directory and proven by its next read: a
//! real slapd (started by the test script), read with a paged search, reviewed, the revoke
//! queued and carried out by the LDAP connector, the directory read again, and the audit
//! recording the revocation as verified.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

mod support;

use serde_json::Value;
use std::collections::HashSet;
use std::process::{Command, Output};

use support::{ldap_add as add, ldap_members as members};

#[test]
fn a_revocation_is_carried_out_on_the_directory_and_verified_by_reading_it_again() {
    let Some(support::LdapSandbox { mut ldap, url, admin, password, ou, ada, bob }) = support::ldap_sandbox("c") else { return };
    // A group name with a '/' in it, as directories have them.
    let group = format!("cn=Finance/AP,{ou}");
    let placeholder = format!("cn=placeholder,{ou}");
    add(
        &mut ldap,
        &group,
        &[("objectClass", &["groupOfNames"]), ("cn", &["Finance/AP"]), ("member", &[ada.as_str(), bob.as_str(), placeholder.as_str()])],
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::write(
        d.join("annexa.toml"),
        format!("[[connectors]]\nsystem = \"corp\"\nkind = \"ldap\"\nurl = \"{url}\"\nbase = \"{ou}\"\nbind_dn = \"{admin}\"\npassword_env = \"LDAP_PASSWORD\"\n"),
    )
    .expect("config");
    std::fs::write(
        d.join("hr.csv"),
        "employee_id,email,given_name,family_name,department,title,manager_id,location,worker_type,status,start_date,end_date\n\
         E0,ines@example.org,Inès,Faure,Finance,CFO,,Paris,employee,active,2015-01-01,\n\
         E1,ada@example.org,Ada,Lovelace,Finance,Clerk,E0,London,employee,active,2020-01-01,\n\
         E2,bob@example.org,Bob,Berg,Finance,Clerk,E0,London,employee,active,2020-01-01,\n",
    )
    .expect("hr");
    for db in annexa_store::testing::fresh_databases(d) {
        let run = |args: &[&str]| -> Output {
            Command::new(env!("CARGO_BIN_EXE_annexa"))
                .args(["--db", &db, "--config", d.join("annexa.toml").to_str().expect("utf8")])
                .args(args)
                .env("LDAP_PASSWORD", &password)
                .current_dir(d)
                .output()
                .expect("annexa runs")
        };
        let ok = |args: &[&str]| -> String {
            let out = run(args);
            assert!(out.status.success(), "{db} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
            String::from_utf8(out.stdout).expect("utf8")
        };
        let json = |args: &[&str]| -> Value { serde_json::from_str(&ok(&[&["--format", "json"][..], args].concat())).expect("json") };
        let read_directory = || {
            ok(&[
                "import",
                "ldap",
                "corp.ldif",
                "--system",
                "corp",
                "--url",
                &url,
                "--base",
                &ou,
                "--bind-dn",
                &admin,
                "--password-env",
                "LDAP_PASSWORD",
            ])
        };
        ok(&["import", "hr", "hr.csv"]);
        read_directory();
        let due = (chrono::Utc::now().date_naive() + chrono::Days::new(30)).to_string();
        let c = json(&["campaign", "create", "--name", "Directory", "--scope", "system:corp", "--reviewer", "manager", "--due", &due]);
        let id = c["id"].to_string();
        let items = json(&["campaign", "items", &id]);
        let item = |who: &str| {
            items
                .as_array()
                .expect("items")
                .iter()
                .find(|i| i["account_id"].as_str().is_some_and(|a| a.contains(who)) && i["entitlement"] == "Finance/AP")
                .unwrap_or_else(|| panic!("{db}: no item of {who}: {items}"))["id"]
                .to_string()
        };
        let (ada_item, bob_item) = (item("ada"), item("bob"));
        ok(&["campaign", "decide", &ada_item, "--as", "E0", "--decision", "certify"]);
        let done = json(&["campaign", "decide", &bob_item, "--as", "E0", "--decision", "revoke", "--comment", "moved to treasury"]);
        assert_eq!(done["tasks"].as_array().map(Vec::len), Some(1), "{db}");

        // The connector carries it out on the directory...
        ok(&["provision", "run"]);
        assert_eq!(
            members(&mut ldap, &group),
            {
                let mut m = vec![ada.clone(), placeholder.clone()];
                m.sort();
                m
            },
            "{db}"
        );
        // ...and the directory, read again, proves it.
        std::thread::sleep(std::time::Duration::from_millis(1100));
        read_directory();
        ok(&["audit", "--check", "revocation-not-fulfilled"]);
        let items = json(&["campaign", "items", &id]);
        let revoked = items
            .as_array()
            .expect("items")
            .iter()
            .find(|i| i["id"].as_i64().is_some_and(|n| bob_item.parse() == Ok(n)))
            .expect("bob's item")
            .clone();
        assert!(revoked["verified_absent_at"].is_string(), "{db}: {revoked}");
        let closed = json(&["campaign", "close", &id]);
        assert_eq!((closed["certified"].as_i64(), closed["revoked"].as_i64()), (Some(1), Some(1)), "{db}");
        ok(&["ledger", "verify"]);
        // The next database starts from the directory as it was.
        ldap.modify(&group, vec![ldap3::Mod::Add("member", HashSet::from([bob.as_str()]))]).and_then(|r| r.success()).expect("restore");
    }
}
