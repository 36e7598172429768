//! `annexa token` and `annexa serve`: an identity provider pushes Users and Groups over
//! SCIM, and the scheduler imports them as accounts; `import scim --pushed` does the same
//! on demand.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

use std::process::{Command, Output};
use std::time::{Duration, Instant};

mod support;

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
        (&["token", "create", "x", "--scope", "admin", "--system", "okta"][..], "[possible values: scim, api]"),
        (&["token", "create", "x"][..], "--role ROLE for the REST API"),
        (
            &["token", "create", "x", "--role", "janitor"][..],
            "[possible values: admin, compliance-manager, auditor, reviewer, system-owner]",
        ),
        (&["token", "create", "x", "--role", "reviewer"][..], "give --employee EMPLOYEE_ID"),
        (&["token", "create", "x", "--role", "reviewer", "--employee", "E404"][..], "no such person in the HR feed"),
        (&["token", "create", "x", "--role", "system-owner", "--employee", "E404"][..], "give --system NAME"),
        (&["token", "create", "x", "--role", "auditor", "--expires", "0"][..], "expected 1 to 3650 days"),
        (&["token", "create", "x", "--role", "auditor", "--system", "erp"][..], "--system is for scim and system-owner tokens"),
        (&["token", "create", "x", "--scope", "scim", "--system", "okta", "--role", "admin"][..], "a scim token has no role"),
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
    assert!(
        String::from_utf8_lossy(&reused.stderr).contains("was revoked; names are not reused"),
        "{}",
        String::from_utf8_lossy(&reused.stderr)
    );
    assert!(ok(&db, &["--format", "csv", "token", "list"]).lines().nth(1).is_some_and(|l| !l.ends_with(',')), "revoked time shown");
    assert!(ok(&db, &["ledger", "verify"]).contains("ledger verified"));
}

#[test]
fn pushed_users_and_groups_become_accounts_of_the_tokens_system() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("a.db").display());
    let token = ok(&db, &["token", "create", "okta-push", "--scope", "scim", "--system", "okta"]).trim().to_string();
    let served = support::serve(&db, 1);
    let base = served.url.clone();

    let idp = annexa_connect::scim_client::ScimClient::new(&base, &token, Default::default()).expect("client");
    let user = |login: &str, employee: &str, active: bool| {
        serde_json::json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "userName": login, "active": active,
            "emails": [{"value": format!("{login}@example.com"), "primary": true}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": employee},
        })
    };
    let ada =
        idp.request("POST", "/Users", Some(&user("ada", "E1", true)), None).expect("push ada").body["id"].as_str().expect("id").to_string();
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
    assert!(
        String::from_utf8_lossy(&audit.stdout).contains("okta/ada"),
        "a privileged group on Ada's everyday account: {}",
        String::from_utf8_lossy(&audit.stdout)
    );
    assert!(ok(&db, &["ledger", "verify"]).contains("ledger verified"));
}

/// One HTTP/1.1 request over loopback: the status and the body.
fn http(base: &str, method: &str, path: &str, token: Option<&str>) -> (u16, String) {
    use std::io::{Read, Write};
    let host = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(host).expect("connect");
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    write!(stream, "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{auth}Connection: close\r\n\r\n").expect("write");
    let mut reply = String::new();
    stream.read_to_string(&mut reply).expect("read");
    let status = reply.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("status line");
    let body = reply.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

#[test]
fn the_rest_api_answers_a_role_token_over_loopback_and_the_policy_is_recorded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("a.db").display());
    let hr = "employee_id,email,given_name,family_name,department,title,manager_id,location,worker_type,status,start_date,end_date\n\
              E1,ana@example.com,Ana,Núñez,IT/Ops,Head,,Madrid,employee,active,2020-01-01,\n";
    std::fs::write(dir.path().join("hr.csv"), hr).expect("hr");
    ok(&db, &["import", "hr", dir.path().join("hr.csv").to_str().expect("utf8")]);
    let auditor = ok(&db, &["token", "create", "nightly", "--role", "auditor", "--expires", "30"]).trim().to_string();
    let reviewer = ok(&db, &["token", "create", "ana", "--role", "reviewer", "--employee", "E1"]).trim().to_string();
    let list = ok(&db, &["--format", "csv", "token", "list"]);
    assert!(list.contains(",api,auditor,,") && list.contains(",api,reviewer,E1,"), "{list}");
    let size = || ok(&db, &["ledger", "checkpoint"]).lines().nth(1).and_then(|l| l.trim().parse::<u64>().ok()).expect("size");
    let before = size();
    let served = support::serve(&db, 0);
    let base = served.url.trim_end_matches("/scim/v2").to_string();
    // A fresh server has no admin and no default password: it prints a one-time link.
    let log = served.log.lock().expect("log").join("\n");
    let link = log.split("/setup?token=").nth(1).and_then(|t| t.split_whitespace().next()).expect("a setup link").to_string();
    assert_eq!(link.len(), 64, "{log}");
    let (status, page) = http(&base, "GET", &format!("/setup?token={link}"), None);
    assert!(status == 200 && page.contains("Create the first admin"), "{status}");
    let (status, me) = http(&base, "GET", "/api/v1/me", Some(&auditor));
    assert_eq!(status, 200, "{me}");
    assert!(me.contains("\"role\":\"auditor\""), "{me}");
    assert_eq!(http(&base, "GET", "/api/v1/findings", None).0, 401);
    assert_eq!(http(&base, "GET", "/api/v1/findings", Some(&reviewer)).0, 403);
    assert_eq!(http(&base, "GET", "/api/v1/findings", Some(&auditor)).0, 200);
    assert_eq!(http(&base, "GET", "/healthz", None).0, 200);
    let (status, doc) = http(&base, "GET", "/api/openapi.json", None);
    assert!(status == 200 && doc.contains("/api/v1/campaigns/{id}/items"), "{status}");
    drop(served);
    // The policy the server decided with is in the ledger, once however often it starts.
    let after = size();
    assert!(after > before, "{before} -> {after}");
    let entry = ok(&db, &["ledger", "show", &(after - 1).to_string()]);
    assert!(entry.contains("authorization-policy") && entry.contains("builtin:authorization.rego"), "{entry}");
    // Users: the password from the environment, never an argument; an admin ends the links.
    let add = |name: &str, role: &str, password: &str| {
        Command::new(env!("CARGO_BIN_EXE_annexa"))
            .args(["--db", &db, "user", "add", name, "--role", role, "--password-env", "TEST_PASSWORD"])
            .env("TEST_PASSWORD", password)
            .output()
            .expect("annexa runs")
    };
    let short = add("root", "admin", "short");
    assert_eq!(short.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 12 are needed"));
    assert!(add("root", "admin", "a long enough phrase").status.success());
    let users = ok(&db, &["--format", "csv", "user", "list"]);
    assert!(users.contains("root,admin,") && !users.contains("argon2"), "{users}");
    let after = size();
    let served = support::serve(&db, 0);
    assert!(!served.log.lock().expect("log").join("\n").contains("setup?token="), "an admin exists: no link");
    drop(served);
    assert_eq!(size(), after, "the same policy again records nothing");
    let mine = dir.path().join("authz.rego");
    let shipped = ok(&db, &["serve", "--print-authorization"]);
    std::fs::write(
        &mine,
        shipped.replace("admin_only := {\"GET /api/v1/tokens\"}", "admin_only := {\"GET /api/v1/tokens\", \"GET /api/v1/findings\"}"),
    )
    .expect("write");
    let mut served = support::serve_with(&db, 0, &["--authorization", mine.to_str().expect("utf8")]);
    let base = served.url.trim_end_matches("/scim/v2").to_string();
    assert_eq!(http(&base, "GET", "/api/v1/findings", Some(&auditor)).0, 403, "the admin's own policy decides");
    served.stop();
    assert!(size() > after, "a changed policy is a ledger entry");
    assert!(ok(&db, &["ledger", "verify"]).contains("ledger verified"));
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "waited 30 s for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

#[test]
fn a_system_that_fails_to_import_leaves_the_others_running() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("a.db");
    let db = format!("sqlite://{}", path.display());
    let okta = ok(&db, &["token", "create", "okta-push", "--scope", "scim", "--system", "okta"]).trim().to_string();
    let entra = ok(&db, &["token", "create", "entra-push", "--scope", "scim", "--system", "entra"]).trim().to_string();
    // What an earlier version let through for a third system: a User without userName. Its
    // import fails whatever is done; it must not hold up anything else.
    let c = rusqlite::Connection::open(&path).expect("sqlite");
    c.execute_batch(
        r#"INSERT INTO scim_resources (id, system, resource_type, unique_key, version, seq, deleted, body)
           VALUES ('x1', 'legacy', 'User', NULL, 1, 1, 0, '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"x1"}');
           UPDATE scim_sequence SET seq = 1;"#,
    )
    .expect("legacy row");
    drop(c);
    let served = support::serve(&db, 1);
    let (base, log) = (served.url.clone(), served.log.clone());
    let okta = annexa_connect::scim_client::ScimClient::new(&base, &okta, Default::default()).expect("client");
    let entra = annexa_connect::scim_client::ScimClient::new(&base, &entra, Default::default()).expect("client");
    let user = |login: &str| serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": login, "password": "Hunter2-secret"});
    let ada =
        okta.request("POST", "/Users", Some(&user("ada@example.com")), None).expect("ada").body["id"].as_str().expect("id").to_string();
    // Two Groups of one name (Entra ID allows it), both imported.
    for _ in 0..2 {
        let sales = serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Sales", "members": [{"value": ada}]});
        okta.request("POST", "/Groups", Some(&sales), None).expect("sales");
    }
    entra.request("POST", "/Users", Some(&user("bob@example.com")), None).expect("bob");

    let imported = |system: &str, rows: &str| {
        ok(&db, &["--format", "csv", "imports"])
            .lines()
            .any(|l| l.contains(&format!(",scim,{system},")) && l.contains(&format!(",{rows},")))
    };
    wait_for("okta and entra to be imported", || imported("okta", "3") && imported("entra", "1"));
    // The failing system is recorded once, and not tried again while its data stays as is.
    std::thread::sleep(Duration::from_secs(3));
    let failures: serde_json::Value = serde_json::from_str(&ok(&db, &["--format", "json", "imports", "--failed"])).expect("json");
    assert_eq!(failures.as_array().map(Vec::len), Some(1), "{failures}");
    assert_eq!((&failures[0]["system"], &failures[0]["attempts"]), (&serde_json::json!("legacy"), &serde_json::json!("1")), "{failures}");
    assert!(failures[0]["error"].as_str().is_some_and(|e| e.contains("a User needs a userName")), "{failures}");
    let said: Vec<String> = log.lock().expect("log").iter().filter(|l| l.contains("could not be imported")).cloned().collect();
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(said[0].contains("legacy") && said[0].contains("the other systems go on"), "{said:?}");
    let listing = annexa(&db, &["imports"]);
    assert!(
        String::from_utf8_lossy(&listing.stderr).contains("what was pushed for legacy has failed to import since"),
        "{}",
        String::from_utf8_lossy(&listing.stderr)
    );
    let audit = annexa(&db, &["audit"]);
    assert!(String::from_utf8_lossy(&audit.stderr).contains("legacy"), "the audit warns: {}", String::from_utf8_lossy(&audit.stderr));

    // Snapshots: the owner's alone, one per change, the oldest pruned.
    let pushed = dir.path().join("a.db.scim-pushed");
    assert_eq!(std::fs::read_dir(pushed.join("legacy")).expect("legacy folder").count(), 1, "a failed snapshot is written once");
    #[cfg(unix)]
    {
        assert_eq!(mode(&pushed), 0o700);
        for f in std::fs::read_dir(pushed.join("okta")).expect("okta folder") {
            assert_eq!(mode(&f.expect("entry").path()), 0o600);
        }
    }
    for i in 0..7 {
        entra.request("POST", "/Users", Some(&user(&format!("user{i}@example.com"))), None).expect("push");
        let rows = (i + 2).to_string();
        wait_for("the change to be imported", || imported("entra", &rows));
    }
    let kept = std::fs::read_dir(pushed.join("entra")).expect("entra folder").count();
    assert_eq!(kept, 5, "the newest five snapshots are kept");
    drop(served);
    for f in std::fs::read_dir(pushed.join("entra")).expect("entra folder") {
        let text = std::fs::read_to_string(f.expect("entry").path()).expect("snapshot");
        assert!(!text.contains("Hunter2") && !text.to_ascii_lowercase().contains("password"), "{text}");
    }
}

#[test]
fn snapshots_an_earlier_version_wrote_are_made_private_and_lose_their_passwords() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("a.db").display());
    ok(&db, &["imports"]);
    let old = dir.path().join("a.db.scim-pushed");
    std::fs::create_dir_all(&old).expect("folder");
    let file = old.join("okta-20261127T101500.000Z.jsonl");
    let line = r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u1","userName":"u","password":"Hunter2-secret"}"#;
    std::fs::write(&file, format!("{line}\n")).expect("old snapshot");
    #[cfg(unix)]
    std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o644)).expect("chmod");
    let served = support::serve(&db, 1);
    let log = served.log.clone();
    drop(served);
    let text = std::fs::read_to_string(&file).expect("snapshot");
    assert!(!text.contains("Hunter2") && text.contains("\"userName\":\"u\""), "{text}");
    #[cfg(unix)]
    assert_eq!(mode(&file), 0o600);
    assert!(log.lock().expect("log").iter().any(|l| l.contains("removed the passwords earlier versions kept in 1 pushed snapshot files")));
}

/// One HTTP/1.1 request with headers and a body: the status, the head and the body.
fn exchange(base: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String, String) {
    use std::io::{Read, Write};
    let host = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(host).expect("connect");
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    write!(stream, "{head}\r\n{body}").expect("write");
    let mut reply = String::new();
    stream.read_to_string(&mut reply).expect("read");
    let status = reply.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("status line");
    let (head, body) = reply.split_once("\r\n\r\n").map(|(h, b)| (h.to_string(), b.to_string())).unwrap_or_default();
    (status, head, body)
}

#[test]
fn two_instances_on_one_postgresql_share_data_and_sessions_and_stop_gracefully() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(db) = annexa_store::testing::fresh_databases(dir.path()).into_iter().find(|u| u.starts_with("postgres")) else { return };
    let run = |args: &[&str], password: Option<&str>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_annexa"));
        c.current_dir(dir.path()).args(["--db", &db]).args(args);
        if let Some(p) = password {
            c.env("TEST_PASSWORD", p);
        }
        let out = c.output().expect("annexa runs");
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let hr = "employee_id,email,given_name,family_name,department,title,manager_id,location,worker_type,status,start_date,end_date\n\
              E1,ana@example.com,Ana,Núñez,IT/Ops,Head,,Madrid,employee,active,2020-01-01,\n";
    std::fs::write(dir.path().join("hr.csv"), hr).expect("hr");
    run(&["import", "hr", "hr.csv"], None);
    run(&["user", "add", "root", "--role", "admin", "--password-env", "TEST_PASSWORD"], Some("a long enough phrase"));
    let mut a = support::serve_in(Some(dir.path()), &db, 1, &[]);
    let mut b = support::serve_in(Some(dir.path()), &db, 1, &[]);
    let base = |s: &support::Served| s.url.trim_end_matches("/scim/v2").to_string();
    let (a_url, b_url) = (base(&a), base(&b));
    assert_ne!(a_url, b_url);

    // Signed in on one instance, the session works on the other: sessions live in the database.
    let json = [("Content-Type", "application/json")];
    let (status, head, body) =
        exchange(&a_url, "POST", "/api/v1/sign-in", &json, r#"{"username":"root","password":"a long enough phrase"}"#);
    assert_eq!(status, 200, "{body}");
    let cookie = head
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: ").or_else(|| l.strip_prefix("Set-Cookie: ")))
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_string();
    let csrf = body.split("\"csrf_token\":\"").nth(1).and_then(|t| t.split('"').next()).expect("csrf").to_string();
    let (status, _, me) = exchange(&b_url, "GET", "/api/v1/me", &[("Cookie", &cookie)], "");
    assert!(status == 200 && me.contains("\"name\":\"root\""), "{status} {me}");
    // A change on one is seen by the other.
    let change = [("Cookie", cookie.as_str()), ("X-CSRF-Token", csrf.as_str()), ("Content-Type", "application/json")];
    let (status, _, run_body) = exchange(&b_url, "POST", "/api/v1/audits", &change, "{}");
    assert_eq!(status, 200, "{run_body}");
    let (_, _, runs) = exchange(&a_url, "GET", "/api/v1/audits", &[("Cookie", &cookie)], "");
    assert!(runs.contains("\"id\":1"), "the audit run on b, read on a: {runs}");
    // Signed out on one, the session is gone on both.
    assert_eq!(exchange(&a_url, "POST", "/api/v1/sign-out", &change, "").0, 200);
    assert_eq!(exchange(&b_url, "GET", "/api/v1/me", &[("Cookie", &cookie)], "").0, 401);

    // One instance killed outright: the other serves on.
    a.stop();
    assert_eq!(exchange(&b_url, "GET", "/healthz", &[], "").0, 200);

    // SIGTERM: a request under way is answered, then the instance exits cleanly.
    use std::io::{Read, Write};
    let host = b_url.trim_start_matches("http://").to_string();
    let mut slow = std::net::TcpStream::connect(&host).expect("connect");
    let sign_in = r#"{"username":"root","password":"not the password at all"}"#;
    write!(slow, "POST /api/v1/sign-in HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}", sign_in.len(), &sign_in[..10])
        .expect("the head and part of the body");
    std::thread::sleep(Duration::from_millis(300));
    b.terminate();
    std::thread::sleep(Duration::from_millis(300));
    slow.write_all(&sign_in.as_bytes()[10..]).expect("the rest of the body");
    let mut reply = String::new();
    slow.read_to_string(&mut reply).expect("read");
    assert!(reply.starts_with("HTTP/1.1 401"), "the request under way was answered: {reply}");
    let status = b.exited(Duration::from_secs(15)).expect("it stops within the grace period");
    assert!(status.success(), "a clean exit: {status:?}");
    assert!(std::net::TcpStream::connect(&host).is_err(), "nothing listens after it stopped");
}
