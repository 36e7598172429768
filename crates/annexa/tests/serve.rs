//! `annexa token` and `annexa serve`: an identity provider pushes Users and Groups over
//! SCIM, and the scheduler imports them as accounts; `import scim --pushed` does the same
//! on demand.

use std::io::BufRead;
use std::process::{Command, Output};

struct Served(std::process::Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn annexa(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_annexa")).args(["--db", db]).args(args).output().expect("annexa runs")
}

fn ok(db: &str, args: &[&str]) -> String {
    let out = annexa(db, args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf8")
}

#[test]
fn tokens_are_created_listed_and_revoked_and_bad_requests_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("a.db").display());
    for (args, says) in [
        (&["token", "create", "x", "--scope", "admin", "--system", "okta"][..], "--scope \"admin\": expected one of scim"),
        (&["token", "create", "x", "--scope", "scim"][..], "give --system"),
        (&["token", "revoke", "nobody"][..], "no live token named \"nobody\""),
    ] {
        let out = annexa(&db, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(says), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let token = ok(&db, &["token", "create", "okta-push", "--scope", "scim", "--system", "okta"]);
    assert!(token.trim().starts_with("annexa_") && token.trim().len() == 88, "{token}");
    let again = annexa(&db, &["token", "create", "okta-push", "--scope", "scim", "--system", "okta"]);
    assert_eq!(again.status.code(), Some(2));
    let list = ok(&db, &["--format", "csv", "token", "list"]);
    assert!(list.contains("okta-push") && !list.contains(token.trim()), "the list never shows the secret: {list}");
    ok(&db, &["token", "revoke", "okta-push"]);
    let reused = annexa(&db, &["token", "create", "okta-push", "--scope", "scim", "--system", "okta"]);
    assert_eq!(reused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&reused.stderr).contains("was revoked; names are not reused"), "{}", String::from_utf8_lossy(&reused.stderr));
    assert!(ok(&db, &["--format", "csv", "token", "list"]).lines().nth(1).is_some_and(|l| !l.ends_with(',')), "revoked time shown");
    assert!(ok(&db, &["ledger", "verify"]).contains("ledger verified"));
}

#[test]
fn pushed_users_and_groups_become_accounts_of_the_tokens_system() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("a.db").display());
    let token = ok(&db, &["token", "create", "okta-push", "--scope", "scim", "--system", "okta"]).trim().to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_annexa"))
        .args(["--db", &db, "serve", "--listen", "127.0.0.1:0", "--jobs-every", "1"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("serve");
    let mut lines = std::io::BufReader::new(child.stderr.take().expect("stderr")).lines();
    let served = Served(child);
    let first = lines.next().and_then(Result::ok).unwrap_or_default();
    let base = first.split("SCIM endpoint ").nth(1).unwrap_or_else(|| panic!("serve said {first:?}")).trim().to_string();
    std::thread::spawn(move || lines.for_each(drop));

    let idp = annexa_connect::scim_client::ScimClient::new(&base, &token, Default::default()).expect("client");
    let user = |login: &str, employee: &str, active: bool| {
        serde_json::json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "userName": login, "active": active,
            "emails": [{"value": format!("{login}@example.com"), "primary": true}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": employee},
        })
    };
    let ada = idp.request("POST", "/Users", Some(&user("ada", "E1", true)), None).expect("push ada").body["id"].as_str().expect("id").to_string();
    idp.request("POST", "/Users", Some(&user("bob", "E2", false)), None).expect("push bob");
    let admins = serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Domain Admins", "members": [{"value": ada}]});
    idp.request("POST", "/Groups", Some(&admins), None).expect("push group");

    // The scheduler (every second here) imports what was pushed.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let imports = loop {
        let imports = ok(&db, &["--format", "csv", "imports"]);
        // It may have taken a first snapshot between two pushes; the last one has all three.
        let all_three = imports.lines().any(|l| l.contains(",scim,okta,") && l.contains(",3,"));
        if all_three || std::time::Instant::now() > deadline {
            break imports;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert!(imports.lines().any(|l| l.contains(",scim,okta,") && l.contains(",3,")), "{imports}");
    drop(served);

    // The same on demand, into a file of our choosing: the accounts, Ada's privileged group.
    let file = dir.path().join("okta.jsonl");
    ok(&db, &["import", "scim", file.to_str().expect("utf8"), "--system", "okta", "--pushed"]);
    let snapshot = std::fs::read_to_string(&file).expect("snapshot");
    assert_eq!(snapshot.lines().count(), 3);
    let hr = "employee_id,email,given_name,family_name,department,title,manager_id,location,worker_type,status,start_date,end_date\n\
              E1,ada@example.com,Ada,L,Eng,Dev,,London,employee,active,2020-01-01,\n\
              E2,bob@example.com,Bob,B,Eng,Dev,,London,employee,active,2020-01-01,\n";
    std::fs::write(dir.path().join("hr.csv"), hr).expect("hr");
    ok(&db, &["import", "hr", dir.path().join("hr.csv").to_str().expect("utf8")]);
    let explained: serde_json::Value = serde_json::from_str(&ok(&db, &["--format", "json", "roles", "explain", "E1"])).expect("json");
    assert_eq!(explained["holdings"][0]["account"], "okta/ada", "{explained}");
    assert_eq!(explained["holdings"][0]["entitlement"], "okta:Domain Admins", "{explained}");
    let audit = annexa(&db, &["--format", "json", "audit", "--check", "admin-not-separated"]);
    assert!(String::from_utf8_lossy(&audit.stdout).contains("okta/ada"), "a privileged group on Ada's everyday account: {}", String::from_utf8_lossy(&audit.stdout));
    assert!(ok(&db, &["ledger", "verify"]).contains("ledger verified"));
}
