//! `annexa audit`: run the checks, store the run, report what changed, set the exit code.

use crate::cli::{AuditArgs, GlobalArgs};
use crate::commands::setup::thousands;
use crate::output::{print_json, Format, Table};
use annexa_core::finding::{Finding, Severity};
use annexa_engine::checks::{check, NotEvaluated, CHECKS};
use annexa_store::RunOutcome;
use std::collections::{BTreeMap, HashSet};
use std::process::ExitCode;

pub fn run(global: &GlobalArgs, args: AuditArgs) -> anyhow::Result<ExitCode> {
    let fail_on = args.fail_on;
    let as_of = match &args.as_of {
        None => chrono::Utc::now(),
        Some(s) => annexa_core::time::parse_instant(s).ok_or_else(|| {
            anyhow::anyhow!("--as-of {s:?} is not a time: expected RFC 3339 (2026-01-31T00:00:00Z) or a date (2026-01-31)")
        })?,
    };
    let app = crate::commands::setup::app_with_config(global)?;
    let audit = app.audit(&args.checks, Some(as_of))?;
    if std::env::var_os("ANNEXA_TIMINGS").is_some() {
        let t = &audit.timings;
        eprintln!("timings: load {:?}, checks {:?}, store {:?}", t.load, t.checks, t.store);
    }
    let (result, outcome) = (&audit.result, &audit.outcome);
    let report = Report { findings: &result.findings, checks_run: &result.checks_run, not_evaluated: &result.not_evaluated, outcome, as_of };
    match global.format {
        Format::Table => report.print_table()?,
        Format::Json => report.print_json()?,
        Format::Csv => print_findings_csv(&result.findings)?,
        Format::Junit => print!("{}", report.junit()),
    }
    crate::commands::warn_of_failed_imports(&app)?;
    let failing = fail_on.is_some_and(|min| result.findings.iter().any(|f| f.severity >= min));
    Ok(if failing { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

pub struct Report<'a> {
    pub findings: &'a [Finding],
    pub checks_run: &'a [String],
    pub not_evaluated: &'a [NotEvaluated],
    pub outcome: &'a RunOutcome,
    pub as_of: annexa_core::time::Instant,
}

/// Per check: (open findings, new, resolved, most severe).
type CheckCounts = BTreeMap<usize, (usize, usize, usize, Option<Severity>)>;

impl Report<'_> {
    fn per_check(&self) -> CheckCounts {
        let position = |id: &str| CHECKS.iter().position(|c| c.id == id).unwrap_or(usize::MAX);
        let new: HashSet<&str> = self.outcome.new.iter().map(String::as_str).collect();
        let mut counts: CheckCounts = BTreeMap::new();
        for id in self.checks_run {
            counts.insert(position(id), (0, 0, 0, None));
        }
        for f in self.findings {
            let e = counts.entry(position(&f.check)).or_default();
            e.0 += 1;
            if new.contains(f.id.as_str()) {
                e.1 += 1;
            }
            e.3 = e.3.max(Some(f.severity));
        }
        for r in &self.outcome.resolved {
            counts.entry(position(&r.finding.check)).or_default().2 += 1;
        }
        counts
    }

    pub fn print_table(&self) -> anyhow::Result<()> {
        let mut table = Table::new(&["check", "controls", "severity", "open", "new", "resolved"]);
        for (pos, (open, new, resolved, sev)) in self.per_check() {
            let Some(def) = CHECKS.get(pos) else { continue };
            table.push(vec![
                def.id.to_string(),
                def.controls.join(" "),
                sev.map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
                thousands(open as u64),
                thousands(new as u64),
                thousands(resolved as u64),
            ]);
        }
        table.print(Format::Table)?;
        for n in self.not_evaluated {
            println!("{}: not evaluated: {}", n.check, n.reason);
        }
        println!();
        println!(
            "Audit run #{} as of {}: {} open findings ({} new, {} still open, {} resolved since the last run).",
            self.outcome.run_id,
            self.as_of.format("%Y-%m-%d %H:%M:%S UTC"),
            thousands(self.findings.len() as u64),
            thousands(self.outcome.new.len() as u64),
            thousands(self.outcome.still_open.len() as u64),
            thousands(self.outcome.resolved.len() as u64),
        );
        Ok(())
    }

    fn print_json(&self) -> anyhow::Result<()> {
        let summary: Vec<serde_json::Value> = self
            .per_check()
            .into_iter()
            .filter_map(|(pos, (open, new, resolved, _))| {
                let def = CHECKS.get(pos)?;
                Some(serde_json::json!({ "check": def.id, "controls": def.controls, "open": open, "new": new, "resolved": resolved }))
            })
            .collect();
        print_json(&serde_json::json!({
            "run_id": self.outcome.run_id,
            "as_of": self.as_of,
            "checks": self.checks_run,
            "not_evaluated": self.not_evaluated,
            "summary": summary,
            "new": self.outcome.new,
            "resolved": self.outcome.resolved.iter().map(|r| &r.finding.id).collect::<Vec<_>>(),
            "findings": self.findings,
        }))
    }

    /// JUnit XML: one test suite, one test case per check, failed when it has findings.
    pub fn junit(&self) -> String {
        let mut cases = String::new();
        let mut failures = 0;
        for id in self.checks_run {
            let Some(def) = check(id) else { continue };
            let mine: Vec<&Finding> = self.findings.iter().filter(|f| f.check == *id).collect();
            cases.push_str(&format!(
                "    <testcase classname=\"annexa.{}\" name=\"{} ({})\">\n",
                xml(id),
                xml(def.title),
                xml(&def.controls.join(", "))
            ));
            if !mine.is_empty() {
                failures += 1;
                let body: Vec<String> =
                    mine.iter().map(|f| format!("[{}] {} {}: {}", f.severity, f.id, f.subject.key, f.message)).collect();
                cases.push_str(&format!(
                    "      <failure message=\"{} finding(s)\" type=\"{}\">{}</failure>\n",
                    mine.len(),
                    xml(id),
                    xml(&body.join("\n"))
                ));
            }
            cases.push_str("    </testcase>\n");
        }
        // A check that could not judge is skipped, with the reason.
        for n in self.not_evaluated {
            let Some(def) = check(&n.check) else { continue };
            cases.push_str(&format!(
                "    <testcase classname=\"annexa.{}\" name=\"{} ({})\">\n      <skipped message=\"not evaluated: {}\"/>\n    </testcase>\n",
                xml(&n.check),
                xml(def.title),
                xml(&def.controls.join(", ")),
                xml(&n.reason)
            ));
        }
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"annexa\" tests=\"{n}\" failures=\"{failures}\" skipped=\"{skipped}\">\n  \
             <testsuite name=\"annexa audit run {run}\" tests=\"{n}\" failures=\"{failures}\" skipped=\"{skipped}\" timestamp=\"{ts}\">\n{cases}  </testsuite>\n</testsuites>\n",
            n = self.checks_run.len() + self.not_evaluated.len(),
            skipped = self.not_evaluated.len(),
            run = self.outcome.run_id,
            ts = self.as_of.format("%Y-%m-%dT%H:%M:%S"),
        )
    }
}

fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 forbids most control characters even escaped.
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' && c != '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Findings as CSV rows (also `findings list --format csv`).
pub fn print_findings_csv(findings: &[Finding]) -> anyhow::Result<()> {
    let mut table = Table::new(&["id", "check", "severity", "controls", "subject_kind", "subject", "label", "message", "evidence"]);
    for f in findings {
        table.push(vec![
            f.id.clone(),
            f.check.clone(),
            f.severity.to_string(),
            f.controls.join(" "),
            f.subject.kind.to_string(),
            f.subject.key.clone(),
            f.subject.label.clone(),
            f.message.clone(),
            serde_json::to_string(&f.evidence)?,
        ]);
    }
    table.print(Format::Csv)
}
