//! Reading a live directory: a real slapd (started by the test script), read with a paged
//! search, saved as LDIF, imported and audited like an export.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

use ldap3::{LdapConn, Mod};
use std::collections::HashSet;
use std::process::Command;

struct Server {
    url: String,
    base: String,
    admin: String,
    password: String,
}

fn server() -> Option<Server> {
    let url = annexa_store::testing::component("ANNEXA_TEST_LDAP", "slapd")?;
    Some(Server {
        url,
        base: std::env::var("ANNEXA_TEST_LDAP_BASE").expect("ANNEXA_TEST_LDAP_BASE"),
        admin: std::env::var("ANNEXA_TEST_LDAP_ADMIN").expect("ANNEXA_TEST_LDAP_ADMIN"),
        password: std::env::var("ANNEXA_TEST_LDAP_PASSWORD").expect("ANNEXA_TEST_LDAP_PASSWORD"),
    })
}

fn add(ldap: &mut LdapConn, dn: &str, attrs: &[(&str, &[&str])]) {
    let attrs: Vec<(&str, HashSet<&str>)> = attrs.iter().map(|(k, vs)| (*k, vs.iter().copied().collect())).collect();
    ldap.add(dn, attrs).and_then(|r| r.success()).unwrap_or_else(|e| panic!("add {dn}: {e}"));
}

#[test]
fn a_live_directory_is_read_saved_and_audited() {
    let Some(s) = server() else { return };
    let mut ldap = LdapConn::new(&s.url).expect("connect");
    ldap.simple_bind(&s.admin, &s.password).and_then(|r| r.success()).expect("bind");
    let ou = format!("ou=t{}-{},{}", std::process::id(), chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0), s.base);
    add(&mut ldap, &ou, &[("objectClass", &["organizationalUnit"]), ("ou", &[ou.split(',').next().unwrap_or("").trim_start_matches("ou=")])]);
    let ada = format!("uid=ada,{ou}");
    let ghost = format!("uid=ghost,{ou}");
    add(&mut ldap, &ada, &[("objectClass", &["inetOrgPerson"]), ("uid", &["ada"]), ("cn", &["Ada Lovelace"]), ("sn", &["Lovelace"]), ("mail", &["ada@example.org"]), ("employeeNumber", &["E1"])]);
    add(&mut ldap, &ghost, &[("objectClass", &["inetOrgPerson"]), ("uid", &["ghost"]), ("cn", &["Ghost"]), ("sn", &["Ghost"]), ("description", &["caf\u{e9} \u{2014} not plain ASCII"])]);
    add(&mut ldap, &format!("cn=Domain Admins,{ou}"), &[("objectClass", &["groupOfNames"]), ("cn", &["Domain Admins"]), ("member", &[ada.as_str()])]);
    // Pages of one entry: the paged search must still see them all.
    ldap.modify(&ghost, vec![Mod::Replace("title", HashSet::from(["Temp"]))]).and_then(|r| r.success()).expect("modify");

    let dir = tempfile::tempdir().expect("tempdir");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_annexa"))
            .args(["--db", &format!("sqlite://{}", dir.path().join("a.db").display())])
            .args(args)
            .env("LDAP_PASSWORD", &s.password)
            .current_dir(dir.path())
            .output()
            .expect("annexa runs")
    };
    std::fs::write(
        dir.path().join("hr.csv"),
        "employee_id,email,given_name,family_name,department,title,manager_id,location,worker_type,status,start_date,end_date\n\
         E1,ada@example.org,Ada,Lovelace,IT,Admin,,London,employee,active,2020-01-01,\n",
    )
    .expect("hr");
    assert!(run(&["import", "hr", "hr.csv"]).status.success());
    let out = run(&[
        "import", "ldap", "corp.ldif", "--system", "corp", "--url", &s.url, "--base", &ou, "--bind-dn", &s.admin,
        "--password-env", "LDAP_PASSWORD", "--page-size", "1",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("read 4 entries"), "{stderr}");
    assert!(stderr.contains("2 accounts, 1 entitlements, 1 assignments for corp"), "{stderr}");

    // The saved file is the evidence: its hash is the import's.
    let saved = std::fs::read(dir.path().join("corp.ldif")).expect("saved");
    let imports: serde_json::Value = serde_json::from_slice(&run(&["--format", "json", "imports"]).stdout).expect("json");
    let sha = imports.as_array().expect("list").iter().find(|i| i["kind"] == "ldif").expect("ldif import")["sha256"].clone();
    use sha2::Digest;
    assert_eq!(sha, annexa_core::to_hex(&sha2::Sha256::digest(&saved)));
    // The live directory is audited like an export: ghost belongs to no one, Ada's
    // everyday account holds Domain Admins.
    let audit: serde_json::Value =
        serde_json::from_slice(&run(&["--format", "json", "audit", "--check", "orphaned-account", "--check", "admin-not-separated"]).stdout)
            .expect("json");
    let keys: Vec<(&str, &str)> = audit["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| (f["check"].as_str().unwrap_or(""), f["subject"]["key"].as_str().unwrap_or("")))
        .collect();
    // Listed most severe first, then by check and subject.
    assert_eq!(keys, [("admin-not-separated", "corp/ada"), ("orphaned-account", "corp/ghost")], "{audit}");

    // A server that refuses the bind is an error naming it, with nothing imported.
    let bad = Command::new(env!("CARGO_BIN_EXE_annexa"))
        .args(["--db", &format!("sqlite://{}", dir.path().join("a.db").display())])
        .args(["import", "ldap", "x.ldif", "--system", "corp", "--url", &s.url, "--base", &ou, "--bind-dn", &s.admin, "--password-env", "WRONG"])
        .env("WRONG", "not-the-password")
        .current_dir(dir.path())
        .output()
        .expect("runs");
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("bind as cn=admin"), "{}", String::from_utf8_lossy(&bad.stderr));
}

#[test]
fn a_directory_is_read_over_ldaps_and_starttls_with_its_certificate_verified() {
    let Some(s) = server() else { return };
    let Some(ldaps) = annexa_store::testing::component("ANNEXA_TEST_LDAPS", "slapd over TLS") else { return };
    let ca = std::env::var("ANNEXA_TEST_LDAP_CA").expect("ANNEXA_TEST_LDAP_CA");
    let mut ldap = LdapConn::new(&s.url).expect("connect");
    ldap.simple_bind(&s.admin, &s.password).and_then(|r| r.success()).expect("bind");
    let name = format!("tls{}-{}", std::process::id(), chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0));
    let ou = format!("ou={name},{}", s.base);
    add(&mut ldap, &ou, &[("objectClass", &["organizationalUnit"]), ("ou", &[name.as_str()])]);
    let ada = format!("uid=ada,{ou}");
    add(&mut ldap, &ada, &[("objectClass", &["inetOrgPerson"]), ("uid", &["ada"]), ("cn", &["Ada"]), ("sn", &["L"]), ("employeeNumber", &["E1"])]);

    let dir = tempfile::tempdir().expect("tempdir");
    let run = |url: &str, extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_annexa"))
            .args(["--db", &format!("sqlite://{}", dir.path().join("a.db").display())])
            .args(["import", "ldap", "corp.ldif", "--system", "corp", "--url", url, "--base", &ou])
            .args(["--bind-dn", &s.admin, "--password-env", "LDAP_PASSWORD"])
            .args(extra)
            .env("LDAP_PASSWORD", &s.password)
            .current_dir(dir.path())
            .output()
            .expect("annexa runs");
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    // ldaps:// and StartTLS, each trusting the directory's CA.
    let (code, stderr) = run(&ldaps, &["--ca-file", &ca]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("read 2 entries"), "{stderr}");
    let (code, stderr) = run(&s.url, &["--starttls", "--ca-file", &ca]);
    assert_eq!(code, Some(0), "{stderr}");
    // The certificate is verified: not signed by a trusted CA, it is refused.
    let (code, stderr) = run(&ldaps, &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("cannot connect") && stderr.to_lowercase().contains("certificate"), "{stderr}");
    let (code, stderr) = run(&s.url, &["--starttls"]);
    assert_eq!(code, Some(2), "{stderr}");
    // Bad options say what is wrong.
    std::fs::write(dir.path().join("not-a-ca.pem"), "hello\n").expect("write");
    let (code, stderr) = run(&ldaps, &["--ca-file", "not-a-ca.pem"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("not-a-ca.pem holds no certificate"), "{stderr}");
    let (code, stderr) = run(&ldaps, &["--ca-file", "missing.pem"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("cannot read the CA file missing.pem"), "{stderr}");
    let (code, stderr) = run(&ldaps, &["--starttls", "--ca-file", &ca]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("ldaps:// URL is TLS already"), "{stderr}");
    // Only the two good reads were imported: the current snapshot is the second import.
    let imports = Command::new(env!("CARGO_BIN_EXE_annexa"))
        .args(["--db", &format!("sqlite://{}", dir.path().join("a.db").display()), "--format", "json", "imports"])
        .output()
        .expect("runs");
    let imports: serde_json::Value = serde_json::from_slice(&imports.stdout).expect("json");
    assert_eq!(imports[0]["import"], "#2", "{imports}");

    // A connector writes over TLS too: a leaver's account is locked through ldaps://, with
    // the CA file named next to annexa.toml.
    let conf = dir.path().join("conf");
    std::fs::create_dir_all(&conf).expect("dir");
    std::fs::copy(&ca, conf.join("corp-ca.pem")).expect("ca");
    std::fs::write(
        conf.join("annexa.toml"),
        format!(
            "[[connectors]]\nsystem = \"corp\"\nkind = \"ldap\"\nurl = \"{ldaps}\"\nbase = \"{ou}\"\nbind_dn = \"{}\"\n\
             password_env = \"LDAP_PASSWORD\"\nca_file = \"corp-ca.pem\"\n",
            s.admin
        ),
    )
    .expect("config");
    let hr = "employee_id,email,given_name,family_name,department,title,manager_id,location,worker_type,status,start_date,end_date";
    std::fs::write(dir.path().join("hr1.csv"), format!("{hr}\nE1,ada@x.io,Ada,L,IT,Dev,,London,employee,active,2020-01-01,\n")).expect("hr1");
    std::fs::write(dir.path().join("hr2.csv"), format!("{hr}\nE1,ada@x.io,Ada,L,IT,Dev,,London,employee,terminated,2020-01-01,2026-01-31\n"))
        .expect("hr2");
    let annexa = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_annexa"))
            .args(["--db", &format!("sqlite://{}", dir.path().join("a.db").display())])
            .args(["--config", conf.join("annexa.toml").to_str().expect("utf8")])
            .args(args)
            .env("LDAP_PASSWORD", &s.password)
            .current_dir(dir.path())
            .output()
            .expect("annexa runs");
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    annexa(&["import", "hr", "hr1.csv"]);
    annexa(&["import", "hr", "hr2.csv"]);
    annexa(&["jml", "run-due"]);
    annexa(&["provision", "run"]);
    let (entries, _) = ldap.search(&ada, ldap3::Scope::Base, "(objectClass=*)", vec!["pwdAccountLockedTime"]).and_then(|r| r.success()).expect("ada");
    let entry = entries.into_iter().next().map(ldap3::SearchEntry::construct).expect("ada");
    assert!(entry.attrs.contains_key("pwdAccountLockedTime"), "ada is locked over ldaps: {entry:?}");
}
