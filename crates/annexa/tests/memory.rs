//! An audit's memory does not grow with what it finds beyond a small constant per finding.
//!
//! A first audit (nothing ever certified, no role model) finds a problem on most accounts.
//! A generated organisation of 10,000 people is audited twice: once running a check that
//! finds nothing (what reading the identity graph costs) and once running every check
//! (about two and a half findings per person, all new, all written). What the checks and
//! their findings add to the peak, divided by the findings, bounds what a finding costs
//! while it is built, compared, stored and counted (fixed costs such as threads and
//! buffers are counted in, so it is an upper bound). SQLite's page cache is set small so
//! that its filling up does not count. Before findings were streamed a finding cost about
//! 9 KB; now it is well under 1 KB.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

use std::process::Command;

const ANNEXA: &str = env!("CARGO_BIN_EXE_annexa");
/// Bytes of peak memory a finding may cost (generous: allocator slack).
const PER_FINDING: f64 = 1_500.0;

/// Runs annexa with `args`; returns its stdout and its own peak resident memory in bytes,
/// which `ANNEXA_TIMINGS` has it print once its report is written (Linux `VmHWM`).
fn run_measured(args: &[&str]) -> (Vec<u8>, u64) {
    let out = Command::new(ANNEXA).args(args).env("ANNEXA_TIMINGS", "1").env("ANNEXA_SQLITE_CACHE_MB", "2").output().expect("annexa runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "annexa {args:?}: {stderr}");
    let kib = stderr
        .lines()
        .find_map(|l| l.strip_prefix("peak memory: "))
        .and_then(|l| l.trim_end_matches(" KiB").parse::<u64>().ok())
        .unwrap_or_else(|| panic!("no peak memory in: {stderr}"));
    (out.stdout, kib * 1024)
}

/// Findings, and peak memory (bytes) with every check less with none, for `people`.
fn audit_growth(dir: &std::path::Path, people: u64) -> (u64, u64) {
    let org = dir.join(format!("org{people}"));
    let db = format!("sqlite://{}", dir.join(format!("annexa{people}.db")).display());
    let generated = Command::new(ANNEXA)
        .args(["demo", "--generate-only", "--first-audit", "--people", &people.to_string(), "--directory-format", "csv", "--out"])
        .arg(&org)
        .output()
        .expect("demo runs");
    assert!(generated.status.success(), "{}", String::from_utf8_lossy(&generated.stderr));
    for (kind, file, system) in [
        ("hr", "hr.csv", None),
        ("accounts", "corp-ad-accounts.csv", None),
        ("assignments", "corp-ad-assignments.csv", None),
        ("aws-credential-report", "aws-credential-report.csv", Some("aws-prod")),
        ("accounts", "app-accounts.csv", None),
        ("assignments", "app-assignments.csv", None),
        ("badges", "badges.csv", Some("hq-badges")),
    ] {
        let mut import = Command::new(ANNEXA);
        import.args(["--db", &db, "import", kind]).arg(org.join(file));
        if let Some(system) = system {
            import.args(["--system", system]);
        }
        let out = import.output().expect("import runs");
        assert!(out.status.success(), "{file}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let config = org.join("annexa.toml");
    let config = config.to_str().expect("utf8");
    let audit = |checks: &[&str]| {
        let mut args = vec!["--db", &db, "--config", config, "--format", "json", "audit", "--as-of", "2026-10-01"];
        for c in checks {
            args.extend(["--check", c]);
        }
        let (stdout, rss) = run_measured(&args);
        // The report's head: the run's totals (the findings follow, one per line).
        let head = String::from_utf8_lossy(&stdout);
        let open = head.split("\"totals\":{").nth(1).and_then(|t| t.split("\"open\":").nth(1)).expect("totals");
        let open: u64 = open.split(|c: char| !c.is_ascii_digit()).next().and_then(|n| n.parse().ok()).expect("count");
        (open, rss)
    };
    // A process's peak resident memory varies by tens of megabytes from run to run (the
    // allocator's arenas, which thread got there first), more than the findings' share. Each
    // audit runs twice: the smaller peak of the full audit against the larger of the
    // baseline is what every run needed beyond reading the graph. A regression to storing
    // findings in memory (9 KB each, as once) still shows many times over.
    let (none, base) = audit(&["log-integrity"]);
    let base = base.max(audit(&["log-integrity"]).1);
    assert_eq!(none, 0, "log-integrity finds nothing on a fresh ledger");
    let (found, peak) = audit(&[]);
    let peak = peak.min(audit(&[]).1);
    assert!(found > people, "a first audit finds a problem on most people: {found} findings for {people} people");
    eprintln!("{people} people: reading the graph {} MB; every check {} MB with {found} findings", base >> 20, peak >> 20);
    (found, peak.saturating_sub(base))
}

#[test]
fn a_finding_costs_a_small_constant_of_memory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (found, growth) = audit_growth(dir.path(), 10_000);
    let per_finding = growth as f64 / found as f64;
    eprintln!("at most {per_finding:.0} bytes of peak memory a finding");
    assert!(per_finding < PER_FINDING, "{per_finding:.0} bytes of peak memory a finding (at most {PER_FINDING})");
}
