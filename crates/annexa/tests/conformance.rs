//! SCIM 2.0 conformance of `annexa serve`, judged by an outside suite: scim2-tester (through
//! `scim2 test` of scim2-cli), which creates, reads, queries, replaces, patches and deletes
//! Users and Groups with every attribute of the RFC schemas. The test script installs it
//! into a virtual environment and names its `scim2` in `ANNEXA_TEST_SCIM2`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

mod support;

use std::process::Command;

#[test]
fn scim2_tester_passes_every_check_on_a_fresh_database() {
    let Some(scim2) = annexa_store::testing::component("ANNEXA_TEST_SCIM2", "the scim2-tester conformance suite") else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    for db in annexa_store::testing::fresh_databases(dir.path()) {
        let token = support::token(&db, "conformance", "tester");
        let served = support::serve(&db, 0);
        let base = served.url.clone();

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
