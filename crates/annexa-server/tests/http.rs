//! `annexa serve`'s connections over a real socket on loopback: clients that send nothing,
//! or too slowly, are cut off while others are served; past the connection cap a client is
//! told to come back; heads too large for the HTTP parser still get a SCIM error body.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

use annexa_server::http::HttpLimits;
use annexa_server::{auth, serve, AppState, ServerConfig};
use rustls::pki_types::pem::PemObject;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

struct Running {
    addr: SocketAddr,
    token: String,
    _runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

/// A server on a fresh SQLite database with short timeouts and a small connection cap.
fn start(max_connections: usize) -> Running {
    start_with(max_connections, Duration::from_secs(1))
}

fn start_with(max_connections: usize, timeout: Duration) -> Running {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("a.db").display());
    let mut store = annexa_store::Store::open(&url).expect("open");
    let t = auth::new_token().expect("token");
    store
        .create_token(&t.id, "okta", &annexa_store::tokens::TokenGrant::scim("okta"), &t.secret_sha256, "test", chrono::Utc::now())
        .expect("token");
    let mut config = ServerConfig::new("http://127.0.0.1");
    config.http = HttpLimits { header_read_timeout: timeout, body_read_timeout: timeout, max_connections, ..HttpLimits::default() };
    let state = AppState::new(store, config).expect("state");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("bind");
    let addr = listener.local_addr().expect("addr");
    runtime.spawn(async move { serve(listener, state, Vec::new()).await });
    Running { addr, token: t.token, _runtime: runtime, _dir: dir }
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    s
}

/// Reads until the server closes the connection (or 10 s pass): what it sent, and when.
fn read_to_close(s: &mut TcpStream) -> (String, Duration) {
    let t0 = Instant::now();
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    (String::from_utf8_lossy(&out).into_owned(), t0.elapsed())
}

/// One request on a new connection, `Connection: close`; the whole answer. The server may
/// answer before it has read all of a large request, so a write that fails is no failure:
/// the answer is what counts.
fn request(r: &Running, head: &str) -> String {
    let mut s = connect(r.addr);
    let _ = s.write_all(head.as_bytes());
    read_to_close(&mut s).0
}

fn get_users(r: &Running) -> String {
    request(r, &format!("GET /scim/v2/Users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n", r.token))
}

/// The status and the SCIM error body's status of an answer.
fn scim_error(answer: &str) -> (String, String) {
    let status = answer.get(9..12).unwrap_or_default().to_string();
    let body = answer.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
    let json: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("not a SCIM body ({e}): {answer}"));
    assert_eq!(json["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error", "{answer}");
    assert!(answer.to_ascii_lowercase().contains("content-type: application/scim+json"), "{answer}");
    (status, json["status"].as_str().unwrap_or_default().to_string())
}

#[test]
fn slow_and_idle_clients_are_cut_off_while_others_are_served() {
    let r = start_with(64, Duration::from_secs(3));
    // Connects and sends nothing; sends half a head; sends a head and a tenth of its body.
    let mut silent = connect(r.addr);
    let mut half = connect(r.addr);
    half.write_all(b"GET /scim/v2/Users HTTP/1.1\r\nHost: x\r\n").expect("write");
    let mut slow_body = connect(r.addr);
    let head = format!("POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/scim+json\r\nContent-Length: 100\r\n\r\n{{\"schemas\"", r.token);
    slow_body.write_all(head.as_bytes()).expect("write");
    // Meanwhile another client is answered at once.
    let t0 = Instant::now();
    assert!(get_users(&r).starts_with("HTTP/1.1 200 "));
    assert!(t0.elapsed() < Duration::from_secs(2), "served while the others wait: {:?}", t0.elapsed());
    for (what, s) in [("silent", &mut silent), ("half a head", &mut half)] {
        let (answer, after) = read_to_close(s);
        assert!(after < Duration::from_secs(8), "{what}: closed after {after:?}");
        assert!(!answer.starts_with("HTTP/1.1 2"), "{what}: {answer}");
    }
    let (answer, after) = read_to_close(&mut slow_body);
    assert!(after < Duration::from_secs(8), "slow body: closed after {after:?}");
    assert_eq!(scim_error(&answer), ("408".into(), "408".into()), "{answer}");
    // An idle keep-alive connection is closed too, after answering its request.
    let mut kept = connect(r.addr);
    kept.write_all(format!("GET /scim/v2/Users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\r\n", r.token).as_bytes())
        .expect("write");
    let (answer, after) = read_to_close(&mut kept);
    assert!(answer.starts_with("HTTP/1.1 200 ") && after < Duration::from_secs(8), "{after:?}: {answer}");
}

#[test]
fn past_the_connection_cap_a_client_is_told_to_retry() {
    let r = start(4);
    let idle: Vec<TcpStream> = (0..4).map(|_| connect(r.addr)).collect();
    std::thread::sleep(Duration::from_millis(200));
    let answer = get_users(&r);
    assert_eq!(scim_error(&answer), ("503".into(), "503".into()), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("retry-after: 1"), "{answer}");
    // Once the idle ones are cut off, clients are served again.
    drop(idle);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let answer = get_users(&r);
        if answer.starts_with("HTTP/1.1 200 ") {
            break;
        }
        assert!(Instant::now() < deadline, "still refused: {answer}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn heads_too_large_are_refused_with_a_scim_body() {
    let r = start(64);
    let auth = format!("Authorization: Bearer {}", r.token);
    // Past the server's own limits: it answers.
    let long_uri = format!("GET /scim/v2/Users?filter={} HTTP/1.1\r\nHost: x\r\n{auth}\r\n\r\n", "a".repeat(10_000));
    assert_eq!(scim_error(&request(&r, &long_uri)), ("414".into(), "414".into()));
    let big_header = format!("GET /scim/v2/Users HTTP/1.1\r\nHost: x\r\n{auth}\r\nX-Padding: {}\r\n\r\n", "b".repeat(20_000));
    assert_eq!(scim_error(&request(&r, &big_header)), ("431".into(), "431".into()));
    // Past what the HTTP parser buffers (a 1.9 MB filter, 200 kB of headers): the parser
    // answers, still with a SCIM body.
    let huge_uri = format!("GET /scim/v2/Users?filter={} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(1_900_000));
    let (status, body_status) = scim_error(&request(&r, &huge_uri));
    assert!(status == "431" || status == "414", "{status}");
    assert_eq!(status, body_status);
    let huge_headers = format!("GET /scim/v2/Users HTTP/1.1\r\nHost: x\r\n{}\r\n", "X-A: b\r\n".repeat(30_000));
    assert_eq!(scim_error(&request(&r, &huge_headers)), ("431".into(), "431".into()));
    let garbage = "\u{1}\u{2} NOT HTTP\r\n\r\n";
    assert_eq!(scim_error(&request(&r, garbage)).0, "400");
    // A body over maxPayloadSize.
    let body = "x".repeat(3 * 1024 * 1024);
    let post = format!(
        "POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\n{auth}\r\nContent-Type: application/scim+json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    assert_eq!(scim_error(&request(&r, &post)), ("413".into(), "413".into()));
    // And the server still serves.
    assert!(get_users(&r).starts_with("HTTP/1.1 200 "));
}

/// A sign-in over the socket, with more headers: the status line and the head.
fn sign_in(addr: SocketAddr, username: &str, extra: &str) -> String {
    let body = format!("{{\"username\":\"{username}\",\"password\":\"not the password, surely\"}}");
    let mut s = connect(addr);
    write!(
        s,
        "POST /api/v1/sign-in HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n{body}",
        body.len()
    )
    .expect("write");
    read_to_close(&mut s).0
}

#[test]
fn one_client_guessing_many_usernames_is_slowed_down_and_a_trusted_proxy_names_the_client() {
    let r = start(64);
    for i in 0..30 {
        let reply = sign_in(r.addr, &format!("guess{i}"), "");
        assert!(reply.starts_with("HTTP/1.1 401"), "attempt {i}: {reply}");
    }
    let reply = sign_in(r.addr, "guess-another", "");
    assert!(reply.starts_with("HTTP/1.1 429") && reply.to_lowercase().contains("retry-after:"), "{reply}");

    // Behind a trusted proxy the limit is per forwarded client, not per proxy.
    let proxied = start_behind_proxy();
    for i in 0..30 {
        let reply = sign_in(proxied.addr, &format!("guess{i}"), "X-Forwarded-For: 198.51.100.1, 203.0.113.7\r\n");
        assert!(reply.starts_with("HTTP/1.1 401"), "attempt {i}: {reply}");
    }
    let blocked = sign_in(proxied.addr, "guess-more", "X-Forwarded-For: 203.0.113.7\r\n");
    assert!(blocked.starts_with("HTTP/1.1 429"), "{blocked}");
    let other = sign_in(proxied.addr, "someone", "X-Forwarded-For: 203.0.113.8\r\n");
    assert!(other.starts_with("HTTP/1.1 401"), "another client is not held back: {other}");
    // A forged header from a client that is not the proxy changes nothing: r's limit holds.
    let forged = sign_in(r.addr, "guess-forged", "X-Forwarded-For: 192.0.2.99\r\n");
    assert!(forged.starts_with("HTTP/1.1 429"), "{forged}");
}

fn start_behind_proxy() -> Running {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("p.db").display());
    let store = annexa_store::Store::open(&url).expect("open");
    let mut config = ServerConfig::new("http://127.0.0.1");
    config.http.trusted_proxies = vec!["127.0.0.1".parse().expect("ip")];
    let state = AppState::new(store, config).expect("state");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("bind");
    let addr = listener.local_addr().expect("addr");
    runtime.spawn(async move { serve(listener, state, Vec::new()).await });
    Running { addr, token: String::new(), _runtime: runtime, _dir: dir }
}

/// A throw-away CA, and a certificate it signed for 127.0.0.1 with its key, made by
/// openssl: (ca, cert, key); `None` where openssl is missing (a skip, except under CI:
/// scripts/test installs it).
fn certificate(dir: &std::path::Path) -> Option<(std::path::PathBuf, std::path::PathBuf, std::path::PathBuf)> {
    let script = "set -e
        ec='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes'
        openssl req -x509 $ec -days 1 -subj '/CN=Annexa test CA' -keyout ca.key -out ca.pem \
          -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign
        openssl req $ec -subj /CN=127.0.0.1 -keyout key.pem -out leaf.csr
        printf 'subjectAltName=IP:127.0.0.1\\nbasicConstraints=critical,CA:FALSE\\n' > leaf.ext
        openssl x509 -req -days 1 -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -extfile leaf.ext -out cert.pem";
    let made = std::process::Command::new("sh").arg("-c").arg(script).current_dir(dir).output().is_ok_and(|o| o.status.success());
    if !made {
        assert!(std::env::var("CI").is_err(), "openssl is missing: under CI the TLS test must run");
        eprintln!("skipped: TLS without openssl");
        return None;
    }
    Some((dir.join("ca.pem"), dir.join("cert.pem"), dir.join("key.pem")))
}

#[test]
fn annexa_serves_https_by_configuration_and_says_which_file_is_wrong() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some((ca, cert, key)) = certificate(dir.path()) else { return };
    // Wrong files are refused with their names.
    let swapped = annexa_server::tls::TlsFiles { cert: key.clone(), key: cert.clone() };
    let e = annexa_server::tls::acceptor(&swapped).err().expect("a key is no certificate");
    assert!(e.contains("--tls-cert") && e.contains("key.pem"), "{e}");
    let missing = annexa_server::tls::TlsFiles { cert: cert.clone(), key: dir.path().join("nope.pem") };
    assert!(annexa_server::tls::acceptor(&missing).err().expect("no key").contains("nope.pem"));

    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let store = annexa_store::Store::open(&url).expect("open");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("bind");
    let addr = listener.local_addr().expect("addr");
    let mut config = ServerConfig::new(&format!("https://{addr}"));
    config.tls = Some(annexa_server::tls::TlsFiles { cert: cert.clone(), key });
    let state = AppState::new(store, config).expect("state");
    runtime.spawn(async move { serve(listener, state, Vec::new()).await });

    // A client that trusts the certificate gets its answers, told to keep to https.
    let pem = std::fs::read(&ca).expect("the CA");
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls::pki_types::CertificateDer::pem_slice_iter(&pem) {
        roots.add(c.expect("a certificate")).expect("a root");
    }
    let client = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let agent = ureq::AgentBuilder::new().tls_config(std::sync::Arc::new(client)).timeout(Duration::from_secs(10)).build();
    let r = agent.get(&format!("https://{addr}/healthz")).call().expect("https answers");
    assert_eq!(r.status(), 200);
    assert_eq!(r.header("strict-transport-security"), Some("max-age=31536000"));
    // Plain HTTP on the TLS port gets no HTTP answer.
    let mut s = connect(addr);
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").expect("write");
    let (reply, _) = read_to_close(&mut s);
    assert!(!reply.starts_with("HTTP/1.1 200"), "{reply}");
    // A client that never finishes its handshake is cut off like a slow head.
    let mut idle = connect(addr);
    let (_, waited) = read_to_close(&mut idle);
    assert!(waited < Duration::from_secs(15), "{waited:?}");
}
