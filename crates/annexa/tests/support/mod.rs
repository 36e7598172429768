//! What the end-to-end tests of `annexa serve` share: a token, and a server in the
//! background on a free port of loopback.
#![allow(dead_code)]

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

/// `annexa serve` in the background, stopped when dropped.
pub struct Served {
    child: std::process::Child,
    /// Its SCIM base URL (`http://127.0.0.1:PORT/scim/v2`).
    pub url: String,
    /// Every line it has logged so far.
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `scim` token for `system`, created in `db`.
pub fn token(db: &str, name: &str, system: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_annexa"))
        .args(["--db", db, "token", "create", name, "--scope", "scim", "--system", system])
        .output()
        .expect("token");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf8").trim().to_string()
}

impl Served {
    /// Stops it and waits until it has.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Asks it to stop as an orchestrator does (SIGTERM).
    pub fn terminate(&self) {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().expect("kill runs");
        assert!(status.success());
    }

    /// Waits up to `limit` for it to exit; its exit status.
    pub fn exited(&mut self, limit: std::time::Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + limit;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        None
    }
}

/// Starts `annexa serve` on `db`, its jobs every `jobs_every` seconds (0: none), and waits
/// until it listens.
pub fn serve(db: &str, jobs_every: u64) -> Served {
    serve_with(db, jobs_every, &[])
}

/// [`serve`] with more arguments.
pub fn serve_with(db: &str, jobs_every: u64, extra: &[&str]) -> Served {
    serve_in(None, db, jobs_every, extra)
}

/// [`serve_with`] in the working directory `dir` (where a PostgreSQL database's ledger key
/// and pushed files are kept).
pub fn serve_in(dir: Option<&std::path::Path>, db: &str, jobs_every: u64, extra: &[&str]) -> Served {
    let mut command = Command::new(env!("CARGO_BIN_EXE_annexa"));
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let mut child = command
        .args(["--db", db, "serve", "--listen", "127.0.0.1:0", "--jobs-every", &jobs_every.to_string()])
        .args(extra)
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve");
    let mut lines = std::io::BufReader::new(child.stderr.take().expect("stderr")).lines();
    let log = Arc::new(Mutex::new(Vec::new()));
    let url = loop {
        let Some(Ok(line)) = lines.next() else {
            let _ = child.kill();
            panic!("serve stopped before listening: {:?}", log.lock().map(|l| l.clone()));
        };
        if let Some(url) = line.split("SCIM endpoint ").nth(1) {
            break url.trim().to_string();
        }
        log.lock().expect("log").push(line);
    };
    // Keep reading its log so it never blocks on a full pipe.
    let kept = log.clone();
    std::thread::spawn(move || lines.map_while(Result::ok).for_each(|l| kept.lock().expect("log").push(l)));
    Served { child, url, log }
}

// ---------------------------------------------------------------------------------------
// Running the CLI

/// `annexa --db DB ARGS…` in `dir`, its output whatever it is.
pub fn annexa_in(dir: &std::path::Path, db: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_annexa")).current_dir(dir).args(["--db", db]).args(args).output().expect("annexa runs")
}

/// Its standard output, after asserting that it succeeded.
pub fn ok_in(dir: &std::path::Path, db: &str, args: &[&str]) -> String {
    let out = annexa_in(dir, db, args);
    assert!(out.status.success(), "{db} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf8")
}

/// Its JSON output (`--format json`), after asserting that it succeeded.
pub fn json_in(dir: &std::path::Path, db: &str, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    serde_json::from_str(&ok_in(dir, db, &all)).expect("json")
}

/// Writes `content` to `KIND.csv` in `dir` and imports it.
pub fn import_in(dir: &std::path::Path, db: &str, kind: &str, content: &str) {
    let file = dir.join(format!("{kind}.csv"));
    std::fs::write(&file, content).expect("write");
    ok_in(dir, db, &["import", kind, file.to_str().expect("utf8")]);
}

// ---------------------------------------------------------------------------------------
// A real directory

/// A throw-away branch of the test directory (`ou=PREFIX…` under its base) holding two
/// people, ada (E1) and bob (E2), and a bound admin connection to it.
pub struct LdapSandbox {
    pub ldap: ldap3::LdapConn,
    pub url: String,
    pub admin: String,
    pub password: String,
    pub ou: String,
    pub ada: String,
    pub bob: String,
}

/// The sandbox, or `None` (after saying so) when no slapd is configured.
pub fn ldap_sandbox(prefix: &str) -> Option<LdapSandbox> {
    let url = annexa_store::testing::component("ANNEXA_TEST_LDAP", "slapd")?;
    let base = std::env::var("ANNEXA_TEST_LDAP_BASE").expect("base");
    let admin = std::env::var("ANNEXA_TEST_LDAP_ADMIN").expect("admin");
    let password = std::env::var("ANNEXA_TEST_LDAP_PASSWORD").expect("password");
    let mut ldap = ldap3::LdapConn::new(&url).expect("connect");
    ldap.simple_bind(&admin, &password).and_then(|r| r.success()).expect("bind");
    let name = format!("{prefix}{}-{}", std::process::id(), chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0));
    let ou = format!("ou={name},{base}");
    ldap_add(&mut ldap, &ou, &[("objectClass", &["organizationalUnit"]), ("ou", &[name.as_str()])]);
    let (ada, bob) = (format!("uid=ada,{ou}"), format!("uid=bob,{ou}"));
    for (dn, uid, cn, sn, id) in [(&ada, "ada", "Ada", "L", "E1"), (&bob, "bob", "Bob", "B", "E2")] {
        ldap_add(
            &mut ldap,
            dn,
            &[("objectClass", &["inetOrgPerson"]), ("uid", &[uid]), ("cn", &[cn]), ("sn", &[sn]), ("employeeNumber", &[id])],
        );
    }
    Some(LdapSandbox { ldap, url, admin, password, ou, ada, bob })
}

/// Adds an entry to the directory.
pub fn ldap_add(ldap: &mut ldap3::LdapConn, dn: &str, attrs: &[(&str, &[&str])]) {
    let attrs: Vec<(&str, std::collections::HashSet<&str>)> = attrs.iter().map(|(k, vs)| (*k, vs.iter().copied().collect())).collect();
    ldap.add(dn, attrs).and_then(|r| r.success()).unwrap_or_else(|e| panic!("add {dn}: {e}"));
}

/// A group's members, sorted.
pub fn ldap_members(ldap: &mut ldap3::LdapConn, group_dn: &str) -> Vec<String> {
    let (entries, _) =
        ldap.search(group_dn, ldap3::Scope::Base, "(objectClass=*)", vec!["member"]).and_then(|r| r.success()).expect("search");
    let mut m: Vec<String> =
        entries.into_iter().next().map(ldap3::SearchEntry::construct).and_then(|e| e.attrs.get("member").cloned()).unwrap_or_default();
    m.sort();
    m
}
