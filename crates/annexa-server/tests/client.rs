//! Annexa's SCIM client against Annexa's SCIM server over real HTTP on loopback, and the
//! client's retries against a server that answers 429 and 503.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

use annexa_connect::scim_client::{NewUser, ScimClient, ScimOptions};
use annexa_server::{auth, AppState, ServerConfig};
use serde_json::json;
use std::io::{BufRead, BufReader, Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Serves a fresh SQLite database on a free port; returns its SCIM base URL and a token.
fn start_server(dir: &std::path::Path) -> (String, String) {
    let url = format!("sqlite://{}", dir.join("scim.db").display());
    let mut store = annexa_store::Store::open(&url).expect("open");
    let t = auth::new_token().expect("token");
    store
        .create_token(&t.id, "app", &annexa_store::tokens::TokenGrant::scim("app"), &t.secret_sha256, "test", chrono::Utc::now())
        .expect("token");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let state = AppState::new(store, ServerConfig::new(&format!("http://{addr}"))).expect("state");
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
        rt.block_on(async move {
            listener.set_nonblocking(true).expect("nonblocking");
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            let _ = annexa_server::serve(listener, state, Vec::new()).await;
        });
    });
    (format!("http://{addr}/scim/v2"), t.token)
}

fn fast() -> ScimOptions {
    ScimOptions { backoff: Duration::from_millis(20), page_size: 2, ..ScimOptions::default() }
}

#[test]
fn the_client_provisions_to_the_server_idempotently() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (base, token) = start_server(dir.path());
    let client = ScimClient::new(&base, &token, fast()).expect("client");
    let new = |login: &str, n: u32| NewUser {
        user_name: login.into(),
        employee_id: format!("E{n}"),
        given_name: login.into(),
        family_name: "Test".into(),
        email: Some(format!("{login}@example.com")),
    };
    assert!(client.create_user(&new("ada", 1)).expect("create").starts_with("created User ada"));
    assert_eq!(client.create_user(&new("ada", 1)).expect("again"), "User ada exists already");
    for (i, login) in ["bob", "cy", "dee", "eve"].iter().enumerate() {
        client.create_user(&new(login, i as u32 + 2)).expect("create");
    }
    // Pages of two: every User is read once.
    let all = client.list("/Users", None).expect("list");
    let mut names: Vec<&str> = all.iter().filter_map(|u| u["userName"].as_str()).collect();
    names.sort();
    assert_eq!(names, ["ada", "bob", "cy", "dee", "eve"]);
    let ada = client.find_user("ADA").expect("find").expect("ada exists");
    assert_eq!(ada["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["employeeNumber"], "E1");

    client
        .request("POST", "/Groups", Some(&json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "eng"})), None)
        .expect("group");
    assert_eq!(client.add_member("ada", "eng").expect("add"), "added ada to eng");
    assert_eq!(client.add_member("ada", "eng").expect("add again"), "ada was already a member of eng");
    assert_eq!(client.add_member("bob", "eng").expect("add"), "added bob to eng");
    let group = client.find_group("eng").expect("find").expect("eng");
    assert_eq!(group["members"].as_array().map(Vec::len), Some(2));
    assert_eq!(client.remove_member("ada", "eng").expect("remove"), "removed ada from eng");
    assert_eq!(client.remove_member("ada", "eng").expect("remove again"), "ada was not a member of eng");
    let moved = client.update_user("bob", json!([{"op": "replace", "path": "title", "value": "Auditor"}])).expect("update");
    assert_eq!((moved["title"].as_str(), moved["meta"]["version"].as_str()), (Some("Auditor"), Some("W/\"2\"")), "{moved}");
    assert_eq!(client.find_user("bob").expect("find").expect("bob")["title"], "Auditor");
    assert_eq!(client.deactivate_user("bob").expect("deactivate"), "deactivated User bob");
    assert_eq!(client.deactivate_user("bob").expect("again"), "User bob was already inactive");
    assert_eq!(client.find_user("bob").expect("find").expect("bob")["active"], false);
    assert_eq!(client.delete_user("cy").expect("delete"), "deleted User cy");
    assert_eq!(client.delete_user("cy").expect("again"), "User cy was already gone");
    assert!(client.add_member("cy", "eng").expect_err("cy is gone").to_string().contains("no User with userName \"cy\""));

    // The snapshot holds every live resource, one per line, and imports as accounts.
    let (snapshot, n) = client.snapshot().expect("snapshot");
    assert_eq!(n, 5);
    let batch = annexa_connect::parse(
        annexa_connect::ImportKind::Scim,
        "app.jsonl",
        snapshot.as_bytes(),
        &annexa_connect::ImportOptions { system: Some("app".into()), ..Default::default() },
    )
    .expect("the snapshot imports");
    assert_eq!((batch.accounts.len(), batch.entitlements.len(), batch.assignments.len()), (4, 1, 1));

    // A wrong token is an error that says so, not retried, and never shows the token.
    let wrong = ScimClient::new(&base, "annexa_0000000000000000_00", fast()).expect("client");
    let err = wrong.list("/Users", None).expect_err("refused").to_string();
    assert!(err.contains("HTTP 401") && !err.contains("annexa_0000"), "{err}");
}

/// A server on loopback that answers each connection with the next canned response and
/// counts the requests.
fn canned(responses: Vec<String>) -> (String, Arc<AtomicUsize>) {
    let (url, count, _) = recording(responses);
    (url, count)
}

/// As [`canned`], also keeping each request's head (request line and headers).
fn recording(responses: Vec<String>) -> (String, Arc<AtomicUsize>, Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let count = Arc::new(AtomicUsize::new(0));
    let heads = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (seen, kept) = (count.clone(), heads.clone());
    std::thread::spawn(move || {
        for (stream, response) in listener.incoming().zip(responses.into_iter().cycle()) {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut length = 0usize;
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                head.push_str(&line);
            }
            if let Ok(mut h) = kept.lock() {
                h.push(head);
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            seen.fetch_add(1, Ordering::SeqCst);
            let _ = stream.write_all(response.as_bytes());
        }
    });
    (format!("http://{addr}/scim/v2"), count, heads)
}

fn http(status: &str, headers: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/scim+json\r\nContent-Length: {}\r\nConnection: close\r\n{headers}\r\n{body}",
        body.len()
    )
}

#[test]
fn the_client_retries_429_and_5xx_as_retry_after_says() {
    let ok = http("200 OK", "ETag: W/\"3\"\r\n", r#"{"id":"1","userName":"ada"}"#);
    let soon = (chrono::Utc::now() + chrono::Duration::seconds(1)).to_rfc2822().replace("+0000", "GMT");
    let (base, count) = canned(vec![
        http("503 Service Unavailable", "Retry-After: 1\r\n", ""),
        http("429 Too Many Requests", &format!("Retry-After: {soon}\r\n"), r#"{"detail":"slow down"}"#),
        ok,
    ]);
    let client = ScimClient::new(&base, "t", fast()).expect("client");
    let started = Instant::now();
    let reply = client.request("GET", "/Users/1", None, None).expect("succeeds on the third attempt");
    assert_eq!((reply.status, reply.etag.as_deref(), count.load(Ordering::SeqCst)), (200, Some("W/\"3\""), 3));
    assert!(started.elapsed() >= Duration::from_millis(900), "waited what Retry-After asked: {:?}", started.elapsed());

    // Always 503: given up after the retries, with the last answer.
    let (base, count) = canned(vec![http("503 Service Unavailable", "", r#"{"detail":"down for maintenance"}"#)]);
    let options = ScimOptions { retries: 2, ..fast() };
    let err = ScimClient::new(&base, "t", options.clone()).expect("client").request("GET", "/Users", None, None).expect_err("fails");
    assert_eq!((err.status(), count.load(Ordering::SeqCst)), (Some(503), 3));
    assert!(err.to_string().contains("down for maintenance"), "{err}");

    // A 400 is the caller's mistake: never retried.
    let (base, count) = canned(vec![http("400 Bad Request", "", r#"{"scimType":"invalidFilter","detail":"bad filter"}"#)]);
    let err = ScimClient::new(&base, "t", options.clone()).expect("client").request("GET", "/Users", None, None).expect_err("fails");
    assert_eq!((err.status(), count.load(Ordering::SeqCst)), (Some(400), 1));
    assert!(err.to_string().contains("(invalidFilter): bad filter"), "{err}");

    // Nobody listening: a transport error after the retries.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr");
    let err = ScimClient::new(&format!("http://{closed}/scim/v2"), "t", options)
        .expect("client")
        .request("GET", "/Users", None, None)
        .expect_err("fails");
    assert!(matches!(err, annexa_connect::scim_client::ScimClientError::Transport { .. }), "{err}");
}

#[test]
fn a_change_refused_as_stale_is_read_again_and_retried_with_the_new_etag() {
    let user = r#"{"id":"u1","userName":"ada","meta":{"version":"W/\"1\""}}"#;
    let (base, _, heads) = recording(vec![
        http("200 OK", "", &format!(r#"{{"totalResults":1,"Resources":[{user}]}}"#)),
        http("200 OK", "ETag: W/\"1\"\r\n", user),
        http("412 Precondition Failed", "", r#"{"detail":"changed"}"#),
        http("200 OK", "ETag: W/\"2\"\r\n", user),
        http("200 OK", "ETag: W/\"3\"\r\n", r#"{"id":"u1","userName":"ada","title":"Dev"}"#),
    ]);
    let client = ScimClient::new(&base, "t", fast()).expect("client");
    let updated = client.update_user("ada", json!([{"op": "replace", "path": "title", "value": "Dev"}])).expect("retried");
    assert_eq!(updated["title"], "Dev");
    let heads = heads.lock().expect("heads").clone();
    let patches: Vec<&String> = heads.iter().filter(|h| h.starts_with("PATCH ")).collect();
    assert_eq!(patches.len(), 2, "{heads:?}");
    assert!(patches[0].contains("If-Match: W/\"1\"") || patches[0].to_ascii_lowercase().contains("if-match: w/\"1\""), "{}", patches[0]);
    assert!(patches[1].to_ascii_lowercase().contains("if-match: w/\"2\""), "{}", patches[1]);
    assert!(heads.iter().all(|h| h.to_ascii_lowercase().contains("authorization: bearer t")), "{heads:?}");
}

#[test]
fn https_targets_are_verified_against_the_ca_file() {
    // slapd's ldaps port is the TLS server at hand: with the test CA the handshake succeeds
    // (and the request then fails, as slapd speaks no HTTP); without it the certificate is
    // refused.
    let Some(ldaps) = annexa_store::testing::component("ANNEXA_TEST_LDAPS", "slapd over TLS") else { return };
    let ca = std::path::PathBuf::from(std::env::var("ANNEXA_TEST_LDAP_CA").expect("ANNEXA_TEST_LDAP_CA"));
    let https = format!("{}/scim/v2", ldaps.replace("ldaps://", "https://"));
    let options = ScimOptions { retries: 0, timeout: Duration::from_secs(5), ..fast() };
    let untrusted =
        ScimClient::new(&https, "t", options.clone()).expect("client").request("GET", "/Users", None, None).expect_err("refused");
    assert!(untrusted.to_string().contains("UnknownIssuer"), "{untrusted}");
    let trusted = ScimClient::new(&https, "t", ScimOptions { ca_file: Some(ca), ..options.clone() })
        .expect("client")
        .request("GET", "/Users", None, None)
        .expect_err("slapd speaks no HTTP");
    assert!(!trusted.to_string().contains("UnknownIssuer") && !trusted.to_string().contains("certificate"), "{trusted}");
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("ca.pem");
    std::fs::write(&bad, "not a certificate").expect("write");
    let err = ScimClient::new(&https, "t", ScimOptions { ca_file: Some(bad.clone()), ..options }).err().expect("refused").to_string();
    assert!(err.contains(&bad.display().to_string()) && err.contains("holds no certificate"), "{err}");
}
