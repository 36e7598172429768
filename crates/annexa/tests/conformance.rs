//! SCIM 2.0 conformance of `annexa serve`, judged by an outside suite: scim2-tester (through
//! `scim2 test` of scim2-cli), which creates, reads, queries, replaces, patches and deletes
//! Users and Groups with every attribute of the RFC schemas. The test script installs it
//! into a virtual environment and names its `scim2` in `ANNEXA_TEST_SCIM2`.

use std::io::BufRead;
use std::process::Command;

struct Served(std::process::Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn scim2_tester_passes_every_check_on_a_fresh_database() {
    let Ok(scim2) = std::env::var("ANNEXA_TEST_SCIM2") else {
        assert!(std::env::var("CI").is_err(), "ANNEXA_TEST_SCIM2 is not set: under CI the conformance suite must run (use scripts/test)");
        eprintln!("skipped: ANNEXA_TEST_SCIM2 names no scim2 (scripts/test installs scim2-tester)");
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    for db in annexa_store::testing::fresh_databases(dir.path()) {
        let annexa = |args: &[&str]| Command::new(env!("CARGO_BIN_EXE_annexa")).args(["--db", &db]).args(args).output().expect("annexa runs");
        let created = annexa(&["token", "create", "conformance", "--scope", "scim", "--system", "tester"]);
        assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
        let token = String::from_utf8(created.stdout).expect("utf8").trim().to_string();
        let mut child = Command::new(env!("CARGO_BIN_EXE_annexa"))
            .args(["--db", &db, "serve", "--listen", "127.0.0.1:0", "--jobs-every", "0"])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("serve");
        let mut lines = std::io::BufReader::new(child.stderr.take().expect("stderr")).lines();
        let served = Served(child);
        let first = lines.next().and_then(Result::ok).unwrap_or_default();
        let base = first.split("SCIM endpoint ").nth(1).unwrap_or_else(|| panic!("serve said {first:?}")).trim().to_string();
        std::thread::spawn(move || lines.for_each(drop));

        // The token goes in the environment, not on a command line others can read.
        let out = Command::new(&scim2)
            .args(["--url", &base, "test"])
            .env("SCIM_CLI_HEADERS", format!("Authorization: Bearer {token}"))
            .output()
            .unwrap_or_else(|e| panic!("{scim2}: {e}"));
        drop(served);
        let report = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
        let failed: Vec<&str> = report.lines().filter(|l| !l.starts_with("SUCCESS") && !l.starts_with("  ") && !l.starts_with("Performing")).collect();
        let passed = report.lines().filter(|l| l.starts_with("SUCCESS")).count();
        assert!(out.status.success() && failed.is_empty(), "{db}: scim2-tester failed {failed:?}\n{report}");
        // The suite of the version the test script pins has 135 checks; fewer means some
        // were not run.
        assert!(passed >= 135, "{db}: only {passed} checks passed\n{report}");
        eprintln!("{db}: scim2-tester passed all {passed} checks");
    }
}
