//! The lifecycle carried out on a real slapd and on a SCIM application (a second Annexa
//! serving SCIM over real HTTP): a leaver disabled and stripped, a mover's old group removed
//! and new group added, a joiner created, through the durable queue — including a worker
//! that dies mid-batch and one target that is down.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

use ldap3::{Scope, SearchEntry};
use std::path::Path;
use std::process::{Command, Output};
use support::Served;

mod support;

const HR: &str = "employee_id,email,given_name,family_name,department,title,manager_id,location,worker_type,status,start_date,end_date";

/// Starts `annexa serve` on a free port of its own database and returns it with a token.
fn serve_app(d: &Path) -> (Served, String) {
    let db = format!("sqlite://{}", d.join("app.db").display());
    let token = support::token(&db, "app", "app");
    (support::serve(&db, 0), token)
}

use support::{ldap_add as add, ldap_members as members};

#[test]
fn leavers_and_movers_are_carried_out_once_even_when_a_worker_dies() {
    let Some(support::LdapSandbox { mut ldap, url, admin, password, ou, ada, bob }) = support::ldap_sandbox("p") else { return };
    let group = |g: &str| format!("cn={g},{ou}");
    // groupOfNames must keep one member: directories hold a placeholder for that.
    let placeholder = format!("cn=placeholder,{ou}");
    add(
        &mut ldap,
        &group("sales-team"),
        &[("objectClass", &["groupOfNames"]), ("cn", &["sales-team"]), ("member", &[ada.as_str(), bob.as_str(), placeholder.as_str()])],
    );
    add(
        &mut ldap,
        &group("eng-team"),
        &[("objectClass", &["groupOfNames"]), ("cn", &["eng-team"]), ("member", &[bob.as_str(), placeholder.as_str()])],
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let write = |f: &str, text: &str| std::fs::write(d.join(f), text).expect("write");

    // The SCIM application: Ada and Bob, with the same groups as in the directory.
    let (app, app_token) = serve_app(d);
    let scim = annexa_connect::scim_client::ScimClient::new(&app.url, &app_token, Default::default()).expect("client");
    let mut ids = std::collections::HashMap::new();
    for (login, employee) in [("ada", "E1"), ("bob", "E2")] {
        let user = serde_json::json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "userName": login, "active": true,
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": { "employeeNumber": employee },
        });
        let created = scim.request("POST", "/Users", Some(&user), None).expect("create user");
        ids.insert(login, created.body["id"].as_str().expect("id").to_string());
    }
    for (g, members) in [("sales-team", vec!["ada", "bob"]), ("eng-team", vec!["bob"])] {
        let members: Vec<serde_json::Value> = members.iter().map(|m| serde_json::json!({ "value": ids[m] })).collect();
        let group = serde_json::json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": g, "members": members });
        scim.request("POST", "/Groups", Some(&group), None).expect("create group");
    }
    write(
        "annexa.toml",
        &format!(
            "[provisioning]\nmax_attempts = 1\nmover_grace_days = 0\n\n\
             [[roles]]\nid = \"sales\"\nentitlements = [\"corp:sales-team\", \"app:sales-team\"]\n\n[[roles]]\nid = \"eng\"\nentitlements = [\"corp:eng-team\", \"app:eng-team\"]\n\n\
             [[birthright]]\nid = \"sales\"\nwhen = {{ department = \"Sales\" }}\nroles = [\"sales\"]\n\n\
             [[birthright]]\nid = \"eng\"\nwhen = {{ department = \"Eng\" }}\nroles = [\"eng\"]\n\n\
             [[connectors]]\nsystem = \"corp\"\nkind = \"ldap\"\nurl = \"{url}\"\nbase = \"{ou}\"\nbind_dn = \"{admin}\"\npassword_env = \"LDAP_PASSWORD\"\ncreate_accounts = true\n\n\
             [[connectors]]\nsystem = \"app\"\nkind = \"scim\"\nurl = \"{app_url}\"\ntoken_env = \"APP_TOKEN\"\ncreate_accounts = true\n\n\
             [[connectors]]\nsystem = \"dead\"\nkind = \"ldap\"\nurl = \"ldap://127.0.0.1:9\"\nbase = \"dc=nowhere\"\n",
            app_url = app.url
        ),
    );
    let run = |args: &[&str], env: &[(&str, &str)]| -> Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_annexa"));
        c.args(["--db", &format!("sqlite://{}", d.join("a.db").display()), "--config", d.join("annexa.toml").to_str().expect("utf8")])
            .args(args)
            .env("LDAP_PASSWORD", &password)
            .env("APP_TOKEN", &app_token)
            .current_dir(d);
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().expect("annexa runs")
    };
    let ok = |args: &[&str]| {
        let out = run(args, &[]);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("utf8")
    };
    let yesterday = (chrono::Utc::now() - chrono::Duration::days(1)).format("%Y-%m-%d").to_string();
    write("hr1.csv", &format!("{HR}\nE1,a@x.io,Ada,L,Sales,Rep,,London,employee,active,2020-01-01,\nE2,b@x.io,Bob,B,Eng,Dev,,London,employee,active,2020-01-01,\n"));
    write("hr2.csv", &format!("{HR}\nE1,a@x.io,Ada,L,Eng,Dev,,London,employee,active,2020-01-01,\nE2,b@x.io,Bob,B,Eng,Dev,,London,employee,terminated,2020-01-01,{yesterday}\nE3,cy@x.io,Cy,Press,Eng,Dev,,London,employee,active,2020-01-01,\n"));
    write("dead.csv", "system,account_id,username,email,employee_id,display_name,status,type,created_at,last_login_at,mfa,password_last_set_at,owner\ndead,bob,bob,,E2,Bob,enabled,human,2020-01-01,,,,\n");
    ok(&["import", "hr", "hr1.csv"]);
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
    ]);
    ok(&["import", "accounts", "dead.csv"]);
    ok(&["import", "scim", "app.jsonl", "--system", "app", "--url", &app.url, "--token-env", "APP_TOKEN"]);
    ok(&["import", "hr", "hr2.csv"]);

    // The plan: Bob disabled and out of his groups (also on the dead system), Ada out of
    // sales-team and into eng-team.
    let plan: serde_json::Value = serde_json::from_str(&ok(&["--format", "json", "provision", "plan"])).expect("json");
    assert_eq!(plan["held"], serde_json::json!([]));
    let mut planned: Vec<String> = plan["tasks"]
        .as_array()
        .expect("list")
        .iter()
        .map(|t| {
            format!(
                "{} {} {} {}",
                t["system"].as_str().unwrap_or(""),
                t["action"].as_str().unwrap_or(""),
                t["account_id"].as_str().unwrap_or(""),
                t["entitlement"].as_str().unwrap_or("-")
            )
        })
        .collect();
    planned.sort();
    assert_eq!(
        planned,
        [
            "app add-membership ada eng-team",
            "app add-membership cy.press eng-team",
            "app create-account cy.press -",
            "app disable-account bob -",
            "app remove-membership ada sales-team",
            "app remove-membership bob eng-team",
            "app remove-membership bob sales-team",
            "corp add-membership ada eng-team",
            "corp add-membership cy.press eng-team",
            "corp create-account cy.press -",
            "corp disable-account bob -",
            "corp remove-membership ada sales-team",
            "corp remove-membership bob eng-team",
            "corp remove-membership bob sales-team",
            "dead disable-account bob -",
        ]
    );
    ok(&["jml", "run-due"]);
    ok(&["jml", "run-due"]); // nothing is queued twice

    // A worker that dies after carrying out its second task, before recording it.
    let crashed = run(&["provision", "run", "--lease-secs", "1"], &[("ANNEXA_TEST_ABORT_AFTER", "2")]);
    assert!(!crashed.status.success());
    std::thread::sleep(std::time::Duration::from_secs(2));
    let second = run(&["provision", "run", "--lease-secs", "1"], &[]);
    assert_eq!(second.status.code(), Some(1), "the dead target fails: {}", String::from_utf8_lossy(&second.stderr));

    // The directory now says what HR says.
    let (entries, _) =
        ldap.search(&bob, Scope::Base, "(objectClass=*)", vec!["pwdAccountLockedTime"]).and_then(|r| r.success()).expect("bob");
    let bob_entry = entries.into_iter().next().map(SearchEntry::construct).expect("bob");
    assert!(bob_entry.attrs.contains_key("pwdAccountLockedTime"), "bob is locked");
    assert_eq!(members(&mut ldap, &group("sales-team")), std::slice::from_ref(&placeholder));
    // The joiner's account was created, with the birthright group.
    let cy = format!("uid=cy.press,{ou}");
    let (entries, _) =
        ldap.search(&cy, Scope::Base, "(objectClass=*)", vec!["employeeNumber", "mail"]).and_then(|r| r.success()).expect("cy");
    let cy_entry = entries.into_iter().next().map(SearchEntry::construct).expect("cy created");
    assert_eq!(cy_entry.attrs.get("employeeNumber"), Some(&vec!["E3".to_string()]));
    let mut eng = vec![ada.clone(), cy.clone(), placeholder.clone()];
    eng.sort();
    assert_eq!(members(&mut ldap, &group("eng-team")), eng);

    // Each task's completion is recorded once; the dead target's task failed for good and
    // can be retried.
    let tasks: serde_json::Value = serde_json::from_str(&ok(&["--format", "json", "provision", "list"])).expect("json");
    let statuses: Vec<(&str, &str)> =
        tasks.as_array().expect("list").iter().map(|t| (t["system"].as_str().unwrap_or(""), t["status"].as_str().unwrap_or(""))).collect();
    assert_eq!(statuses.iter().filter(|(s, st)| *s == "corp" && *st == "done").count(), 7, "{tasks}");
    assert_eq!(statuses.iter().filter(|(s, st)| *s == "app" && *st == "done").count(), 7, "{tasks}");
    let failed: serde_json::Value = serde_json::from_str(&ok(&["--format", "json", "provision", "list", "--failed"])).expect("json");
    let failed = failed.as_array().expect("list");
    assert_eq!(failed.len(), 1);
    assert!(failed[0]["last_error"].as_str().unwrap_or("").contains("cannot connect"), "{failed:?}");
    let id = failed[0]["id"].to_string();
    ok(&["provision", "retry", &id]);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&ok(&["--format", "json", "provision", "list", "--failed"])).expect("json"),
        serde_json::json!([])
    );
    ok(&["ledger", "export", "export"]);
    let entries = std::fs::read_to_string(d.join("export/entries.jsonl")).expect("entries");
    assert_eq!(entries.lines().filter(|l| l.contains("\"kind\":\"task-done\"")).count(), 14);
    assert_eq!(entries.lines().filter(|l| l.contains("\"kind\":\"task-queued\"")).count(), 15);

    // Re-imported, both systems say what HR says: Bob disabled, Ada only in eng-team, Cy
    // created with his birthright group.
    ok(&[
        "import",
        "ldap",
        "corp-after.ldif",
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
    ]);
    ok(&["import", "scim", "app-after.jsonl", "--system", "app", "--url", &app.url, "--token-env", "APP_TOKEN"]);
    let ldif = std::fs::read_to_string(d.join("corp-after.ldif")).expect("ldif");
    let bob_block = ldif.split("\n\n").find(|b| b.starts_with(&format!("dn: {bob}"))).expect("bob in the LDIF");
    assert!(bob_block.contains("pwdAccountLockedTime:"), "{bob_block}");
    let snapshot = std::fs::read_to_string(d.join("app-after.jsonl")).expect("snapshot");
    let resources: Vec<serde_json::Value> = snapshot.lines().map(|l| serde_json::from_str(l).expect("json")).collect();
    let user = |login: &str| resources.iter().find(|r| r["userName"] == login).unwrap_or_else(|| panic!("{login} in the app"));
    assert_eq!(user("bob")["active"], false);
    assert_eq!(user("cy.press")["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["employeeNumber"], "E3");
    for who in ["E1", "E3"] {
        let explained: serde_json::Value = serde_json::from_str(&ok(&["--format", "json", "roles", "explain", who])).expect("json");
        let mut held: Vec<String> = explained["holdings"]
            .as_array()
            .expect("holdings")
            .iter()
            .map(|h| format!("{} {}", h["account"].as_str().unwrap_or(""), h["entitlement"].as_str().unwrap_or("")))
            .collect();
        held.sort();
        let login = if who == "E1" { "ada" } else { "cy.press" };
        assert_eq!(held, [format!("app/{login} app:eng-team"), format!("corp/{login} corp:eng-team")], "{who}: {explained}");
    }
    drop(app);
    assert!(ok(&["ledger", "verify"]).contains("ledger verified"));
    let _ = Path::new(".");
}
