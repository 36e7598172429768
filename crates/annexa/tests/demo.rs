//! End to end: `annexa demo` on both database engines finds exactly the seeded problems,
//! and the stored run answers `findings`, `audit` and exit codes as documented.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

use std::path::Path;
use std::process::{Command, Output};

fn annexa(db: &str, args: &[&str]) -> Output {
    // Each database gets its ledger key beside it, never in the working directory.
    let key = std::env::temp_dir().join(format!("annexa-test-{:x}.ledger-key", {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        db.hash(&mut h);
        h.finish()
    }));
    Command::new(env!("CARGO_BIN_EXE_annexa"))
        .arg("--db")
        .arg(db)
        .arg("--ledger-key")
        .arg(key)
        .args(args)
        .env_remove("ANNEXA_CONFIG")
        .env_remove("ANNEXA_LEDGER_KEY")
        .output()
        .expect("annexa runs")
}

fn json(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// What the default demo (1,000 people, seed 42) seeds, check by check.
const SEEDED: &[(&str, u64)] = &[
    ("admin-not-separated", 2),
    ("certification-overdue", 7),
    ("contractor-no-end-date", 5),
    ("dormant-account", 7),
    ("leaver-access", 7),
    ("mfa-missing", 5),
    ("orphaned-account", 5),
    ("privilege-outlier", 1),
    ("privileged-weak-mfa", 3),
    ("root-account-use", 1),
    ("service-account-no-owner", 3),
    ("shared-account", 2),
    ("sod-conflict", 2),
    ("stale-credential", 2),
    ("unexplained-access", 6),
];

#[test]
fn the_demo_finds_every_seeded_problem_on_both_engines() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (n, db) in annexa_store::testing::fresh_databases(dir.path()).into_iter().enumerate() {
        let out_dir = dir.path().join(format!("org{n}"));
        let out = annexa(&db, &["--format", "json", "demo", "--out", out_dir.to_str().expect("utf8")]);
        let report = json(&out);
        assert_eq!(report["all_found"], true, "{db}: {report}");
        for (check, count) in SEEDED {
            assert_eq!(report["found"][check], *count, "{db}: {check}");
            assert_eq!(report["expected"][check], *count, "{db}: {check}");
        }
        let total: u64 = SEEDED.iter().map(|(_, c)| c).sum();
        // Plan: the library's risks in the register, the SoA drafted from them and the audit.
        assert_eq!(report["risks"], 7, "{db}");
        assert_eq!(report["soa_drafted"], 13, "{db}");
        let risks = json(&annexa(&db, &["--format", "json", "risk", "list"]));
        assert!(risks.as_array().expect("risks").iter().all(|r| r["quantification"].is_object()), "quantified: {risks}");

        // The stored findings answer queries.
        let open = json(&annexa(&db, &["--format", "json", "findings", "list"]));
        assert_eq!(open.as_array().map(Vec::len), Some(total as usize), "{db}");
        let leavers = json(&annexa(&db, &["--format", "json", "findings", "list", "--check", "leaver-access"]));
        let first = &leavers[0];
        assert_eq!(first["severity"], "critical");
        assert!(first["controls"].as_array().expect("controls").iter().any(|c| c == "A.6.5"));
        let records = first["evidence"]["records"].as_array().expect("records");
        assert!(records.iter().any(|r| r["record"] == "person" && r["file"].as_str().is_some_and(|f| f.ends_with("hr.csv"))));
        assert!(records.iter().all(|r| r["sha256"].as_str().is_some_and(|s| s.len() == 64) && r["line"].as_u64() > Some(1)));
        let id = first["id"].as_str().expect("id");
        let shown = annexa(&db, &["findings", "show", &id[..10]]);
        let text = String::from_utf8_lossy(&shown.stdout);
        assert!(shown.status.success() && text.contains("evidence:") && text.contains("hr.csv line"), "{text}");
        let by_2013 = json(&annexa(&db, &["--format", "json", "findings", "list", "--control", "A.9.2.3"]));
        assert!(by_2013.as_array().expect("list").iter().all(|f| f["controls"].as_array().expect("c").iter().any(|c| c == "A.8.2")));

        // A second audit of the same data: nothing new, nothing resolved, all still open;
        // --fail-on decides the exit code; JUnit names the failing checks.
        let config = out_dir.join("annexa.toml");
        let config = config.to_str().expect("utf8");
        let again = annexa(&db, &["--config", config, "--format", "json", "audit", "--as-of", "2026-10-01T00:00:00Z"]);
        let again = json(&again);
        assert_eq!(again["new"].as_array().map(Vec::len), Some(0), "{db}");
        assert_eq!(again["resolved"].as_array().map(Vec::len), Some(0), "{db}");
        assert_eq!(again["findings"].as_array().map(Vec::len), Some(total as usize));
        let fail = annexa(&db, &["--config", config, "audit", "--as-of", "2026-10-01", "--fail-on", "critical"]);
        assert_eq!(fail.status.code(), Some(1), "{db}");
        let pass =
            annexa(&db, &["--config", config, "audit", "--as-of", "2026-10-01", "--check", "privilege-outlier", "--fail-on", "medium"]);
        assert_eq!(pass.status.code(), Some(0), "{}", String::from_utf8_lossy(&pass.stderr));
        let junit = annexa(&db, &["--config", config, "audit", "--as-of", "2026-10-01", "--format", "junit"]);
        let xml = String::from_utf8_lossy(&junit.stdout);
        assert!(xml.starts_with("<?xml") && xml.contains("failures=\"15\"") && xml.contains("classname=\"annexa.sod-conflict\""), "{xml}");
        assert!(xml.contains("skipped=\"0\"") && !xml.contains("<skipped"), "{xml}");

        // With the built-in configuration (no role model, no SoD rules) the checks that
        // judge by them say so once, in the summary and as skipped test cases, and find nothing.
        let bare = annexa(&db, &["audit", "--as-of", "2026-10-01"]);
        let table = String::from_utf8_lossy(&bare.stdout);
        assert!(table.contains("unexplained-access: not evaluated: no role model"), "{table}");
        assert!(table.contains("sod-conflict: not evaluated: no segregation-of-duties rules"), "{table}");
        let bare = json(&annexa(&db, &["--format", "json", "audit", "--as-of", "2026-10-01"]));
        let skipped: Vec<&str> =
            bare["not_evaluated"].as_array().expect("not_evaluated").iter().filter_map(|n| n["check"].as_str()).collect();
        assert_eq!(skipped, ["sod-conflict", "mover-residual-access", "unexplained-access"], "{db}");
        assert!(bare["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .all(|f| f["check"] != "unexplained-access" && f["check"] != "sod-conflict"));
        let junit = annexa(&db, &["audit", "--as-of", "2026-10-01", "--format", "junit"]);
        let xml = String::from_utf8_lossy(&junit.stdout);
        assert!(xml.contains("skipped=\"3\"") && xml.contains("<skipped message=\"not evaluated: no role model"), "{xml}");
    }
}

#[test]
fn the_directory_as_csv_gives_the_same_findings_as_ldif() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = |format: &str| {
        let out = dir.path().join(format);
        let db = format!("sqlite://{}", dir.path().join(format!("{format}.db")).display());
        let args = ["--format", "json", "demo", "--directory-format", format, "--out", out.to_str().expect("utf8")];
        let report = json(&annexa(&db, &args));
        assert_eq!(report["all_found"], true, "{format}: {report}");
        let list = json(&annexa(&db, &["--format", "json", "findings", "list"]));
        let mut ids: Vec<String> = list.as_array().expect("list").iter().map(|f| f["id"].as_str().expect("id").to_string()).collect();
        ids.sort();
        (out, ids)
    };
    let (ldif_dir, ldif) = run("ldif");
    let (csv_dir, csv) = run("csv");
    assert_eq!(ldif, csv);
    assert!(ldif_dir.join("corp-ad.ldif").exists() && !ldif_dir.join("corp-ad-accounts.csv").exists());
    assert!(!csv_dir.join("corp-ad.ldif").exists());
    let header = |f: &str| String::from_utf8(std::fs::read(csv_dir.join(f)).expect(f)).expect("utf8").lines().next().map(String::from);
    assert_eq!(header("corp-ad-accounts.csv"), header("app-accounts.csv"));
    assert_eq!(header("corp-ad-assignments.csv"), header("app-assignments.csv"));
}

#[test]
fn the_same_seed_gives_the_same_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gen = |name: &str, seed: &str| {
        let out = dir.path().join(name);
        let o = annexa(
            "sqlite://unused.db",
            &["demo", "--generate-only", "--people", "300", "--seed", seed, "--out", out.to_str().expect("utf8")],
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        out
    };
    let (a, b, c) = (gen("a", "7"), gen("b", "7"), gen("c", "8"));
    let read = |d: &Path, f: &str| std::fs::read(d.join(f)).expect("file");
    for f in ["hr.csv", "corp-ad.ldif", "aws-credential-report.csv", "app-accounts.csv", "app-assignments.csv", "badges.csv", "annexa.toml"]
    {
        assert_eq!(read(&a, f), read(&b, f), "{f} differs for one seed");
    }
    assert_ne!(read(&a, "hr.csv"), read(&c, "hr.csv"));
    assert!(!Path::new("unused.db").exists(), "--generate-only must not touch a database");
}

#[test]
fn a_given_configuration_is_not_silently_ignored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("demo.db").display());
    let out = dir.path().join("org");
    let o = annexa(&db, &["--config", "mine.toml", "demo", "--people", "40", "--out", out.to_str().expect("utf8")]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(stderr.contains("the demo audits with the configuration it generated") && stderr.contains("not mine.toml"), "{stderr}");
}
