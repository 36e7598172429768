//! `annexa audit`: run the checks, store the run, report what changed, set the exit code.
//!
//! The audit keeps no finding in memory: what it prints comes from its outcome (counts per
//! check) and from the store, read as it is written out. The table is a summary a person
//! reads (per check, per control, the most severe findings); JSON, CSV and JUnit hold every
//! finding of the run and are written as they are read.

use crate::cli::{AuditArgs, GlobalArgs};
use crate::commands::setup::thousands;
use crate::output::{csv_cell, Format, Table};
use annexa_core::finding::Finding;
use annexa_engine::checks::{check, NotEvaluated};
use annexa_store::{FindingFilter, RunOutcome};
use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;

/// The most severe findings the table shows; the rest are a command away.
const SHOWN: u64 = 10;
/// Messages in the table are cut to this many characters.
const MESSAGE_WIDTH: usize = 100;

pub fn run(global: &GlobalArgs, args: AuditArgs) -> anyhow::Result<ExitCode> {
    let fail_on = args.fail_on;
    let as_of = match &args.as_of {
        None => chrono::Utc::now(),
        Some(s) => annexa_core::time::parse_instant(s).ok_or_else(|| {
            anyhow::anyhow!("--as-of {s:?} is not a time: expected RFC 3339 (2026-01-31T00:00:00Z) or a date (2026-01-31)")
        })?,
    };
    if matches!(global.format, Format::Xlsx | Format::Html) {
        anyhow::bail!("--format xlsx and html are for exports; an audit prints as table, json, csv or junit");
    }
    let app = crate::commands::setup::app_with_config(global)?;
    let audit = app.audit(&args.checks, Some(as_of))?;
    let report = Report { app: &app, not_evaluated: &audit.summary.not_evaluated, outcome: &audit.outcome, as_of };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match global.format {
        Format::Table => report.table(&mut out)?,
        Format::Json => report.json(&mut out)?,
        Format::Csv => write_findings_csv(&mut out, |each| app.findings_each(&report.filter(None), false, each).map(|_| ()))?,
        Format::Junit => report.junit(&mut out)?,
        Format::Xlsx | Format::Html => {}
    }
    out.flush()?;
    drop(out);
    if std::env::var_os("ANNEXA_TIMINGS").is_some() {
        let t = &audit.timings;
        eprintln!(
            "timings: load {:?}, checks and store {:?} (of which writing {:?}), finish {:?}",
            t.load, t.checks_and_store, t.writing, t.finish
        );
        // After the report is written: the whole command's high-water mark.
        if let Some(kib) = peak_memory_kib() {
            eprintln!("peak memory: {kib} KiB");
        }
    }
    crate::commands::warn_of_failed_imports(&app)?;
    // A check in error could not say whether anything is wrong: with --fail-on, that fails.
    let errored = audit.summary.not_evaluated.iter().any(|n| n.reason.starts_with("error: "));
    let failing = fail_on.is_some_and(|min| errored || audit.outcome.checks.iter().any(|c| c.most_severe.is_some_and(|s| s >= min)));
    Ok(if failing { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// This process's peak resident memory (Linux `VmHWM`), for `ANNEXA_TIMINGS`.
fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?;
    line.trim().trim_end_matches("kB").trim().parse().ok()
}

/// What a run found, to print.
pub struct Report<'a> {
    pub app: &'a annexa_app::App,
    pub not_evaluated: &'a [NotEvaluated],
    pub outcome: &'a RunOutcome,
    pub as_of: annexa_core::time::Instant,
}

impl Report<'_> {
    /// The findings this run reported, optionally of one check.
    fn filter(&self, check: Option<&str>) -> FindingFilter {
        FindingFilter { run: Some(self.outcome.run_id), check: check.map(String::from), ..Default::default() }
    }

    /// The summary a person reads: per check (those that found something; the others
    /// named on a line), per control, the most severe findings, and the commands for more.
    pub fn table(&self, out: &mut impl Write) -> anyhow::Result<()> {
        let o = self.outcome;
        let mut table = Table::new(&["check", "controls", "severity", "open", "new", "resolved"]);
        let mut passed = Vec::new();
        for c in &o.checks {
            let Some(def) = check(&c.check) else { continue };
            if c.open == 0 && c.resolved == 0 && c.suppressed == 0 {
                passed.push(c.check.as_str());
                continue;
            }
            table.push(vec![
                c.check.clone(),
                def.controls.join(" "),
                c.most_severe.map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
                thousands(c.open),
                thousands(c.new),
                thousands(c.resolved),
            ]);
        }
        if !table.rows.is_empty() {
            table.write_aligned(out)?;
        }
        if !passed.is_empty() {
            writeln!(out, "passed (nothing found): {}", passed.join(", "))?;
        }
        for n in self.not_evaluated {
            if n.reason.starts_with("error: ") {
                writeln!(out, "{}: {}", n.check, n.reason)?;
            } else {
                writeln!(out, "{}: not evaluated: {}", n.check, n.reason)?;
            }
        }

        // Per control: the findings that evidence it, and how many of its checks found some.
        let mut controls: BTreeMap<(u32, u32, u32), (&str, u64, usize, usize)> = BTreeMap::new();
        for c in &o.checks {
            let Some(def) = check(&c.check) else { continue };
            for id in def.controls {
                let e = controls.entry(control_order(id)).or_insert((id, 0, 0, 0));
                e.1 += c.open;
                e.2 += usize::from(c.open > 0);
                e.3 += 1;
            }
        }
        if controls.values().any(|c| c.1 > 0) {
            writeln!(out)?;
            let catalog = annexa_core::catalog::Catalog::get();
            let mut table = Table::new(&["control", "title", "open", "checks with findings"]);
            for (id, open, failing, of) in controls.values().filter(|c| c.1 > 0) {
                let title = catalog.control(id).map(|c| c.title.clone()).unwrap_or_default();
                table.push(vec![id.to_string(), title, thousands(*open), format!("{failing} of {of}")]);
            }
            table.write_aligned(out)?;
        }

        if o.total > 0 {
            writeln!(out)?;
            let shown = SHOWN.min(o.total);
            writeln!(out, "Most severe first ({} of {}):", shown, thousands(o.total))?;
            let mut top = Table::new(&["severity", "id", "subject", "message"]);
            let filter = FindingFilter { limit: Some(SHOWN), ..self.filter(None) };
            self.app.findings_each(&filter, false, |f| {
                let f = f.finding;
                top.push(vec![f.severity.to_string(), f.id, f.subject.key, cut(&f.message, MESSAGE_WIDTH)]);
                Ok(())
            })?;
            top.write_aligned(out)?;
        }
        writeln!(out)?;
        let overdue = self.app.overdue(self.as_of)?;
        if overdue.total > 0 {
            let by: Vec<String> = overdue.by_severity.iter().map(|(s, n)| format!("{} {s}", thousands(*n))).collect();
            writeln!(
                out,
                "Overdue: {} findings past their due date ({}): `annexa findings list --overdue`.",
                thousands(overdue.total),
                by.join(", ")
            )?;
        }
        let suppressed = if o.suppressed > 0 {
            format!("; {} more accepted as risks or dismissed as false positives", thousands(o.suppressed))
        } else {
            String::new()
        };
        let reopened = if o.reopened > 0 { format!(", {} reopened", thousands(o.reopened)) } else { String::new() };
        writeln!(
            out,
            "Audit run #{} as of {}: {} open findings ({} new, {} still open, {} resolved since the last run{reopened}){suppressed}.",
            o.run_id,
            self.as_of.format("%Y-%m-%d %H:%M:%S UTC"),
            thousands(o.total - o.suppressed),
            thousands(o.new),
            thousands(o.still_open),
            thousands(o.resolved),
        )?;
        if o.total > SHOWN {
            writeln!(
                out,
                "The rest: `annexa findings list --run {} --offset {SHOWN}` (narrow with --check, --severity, --system, \
                 --control; --format csv or json writes them all).",
                o.run_id
            )?;
        }
        Ok(())
    }

    /// JSON: the run, its summary, the ids it opened and resolved, and every finding it
    /// reported, one per line, written as read.
    fn json(&self, out: &mut impl Write) -> anyhow::Result<()> {
        let o = self.outcome;
        let summary: Vec<serde_json::Value> = o
            .checks
            .iter()
            .map(|c| {
                let controls = check(&c.check).map(|d| d.controls).unwrap_or_default();
                serde_json::json!({ "check": c.check, "controls": controls, "open": c.open, "new": c.new, "resolved": c.resolved,
                                    "suppressed": c.suppressed, "most_severe": c.most_severe })
            })
            .collect();
        let head = serde_json::json!({
            "run_id": o.run_id,
            "as_of": self.as_of,
            "checks": o.checks.iter().map(|c| &c.check).collect::<Vec<_>>(),
            "not_evaluated": self.not_evaluated,
            "summary": summary,
            "totals": { "open": o.total - o.suppressed, "new": o.new, "still_open": o.still_open, "changed": o.changed,
                        "resolved": o.resolved, "suppressed": o.suppressed, "reopened": o.reopened },
            "overdue": self.app.overdue(self.as_of)?,
        });
        // The head's fields, then the long lists streamed after them.
        let head = serde_json::to_string(&head)?;
        // Only the outer object's closing brace goes: "totals" ends in one of its own.
        write!(out, "{}", head.strip_suffix('}').unwrap_or(&head))?;
        for change in ["new", "resolved"] {
            write!(out, ",\"{change}\":[")?;
            let mut first = true;
            self.app.run_finding_ids(o.run_id, change, |id| {
                if !first {
                    out.write_all(b",")?;
                }
                first = false;
                serde_json::to_writer(&mut *out, id).map_err(std::io::Error::other)
            })?;
            write!(out, "]")?;
        }
        writeln!(out, ",\"findings\":[")?;
        let mut first = true;
        self.app.findings_each(&self.filter(None), false, |f| {
            if !first {
                out.write_all(b",\n")?;
            }
            first = false;
            serde_json::to_writer(&mut *out, &f.finding).map_err(std::io::Error::other)
        })?;
        writeln!(out, "\n]}}")?;
        Ok(())
    }

    /// JUnit XML: one test suite, one test case per check, failed when it has findings
    /// (each listed in the failure), skipped when it could not judge.
    pub fn junit(&self, out: &mut impl Write) -> anyhow::Result<()> {
        let o = self.outcome;
        let failures = o.checks.iter().filter(|c| c.open > 0).count();
        // A check that failed (a Rego policy in error) is an error, never skipped or passed.
        let errors = self.not_evaluated.iter().filter(|n| n.reason.starts_with("error: ")).count();
        let (n, skipped) = (o.checks.len() + self.not_evaluated.len(), self.not_evaluated.len() - errors);
        writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
        writeln!(out, "<testsuites name=\"annexa\" tests=\"{n}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\">")?;
        writeln!(
            out,
            "  <testsuite name=\"annexa audit run {}\" tests=\"{n}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" timestamp=\"{}\">",
            o.run_id,
            self.as_of.format("%Y-%m-%dT%H:%M:%S")
        )?;
        let case = |out: &mut dyn Write, id: &str| -> std::io::Result<()> {
            let (title, controls) = check(id).map(|d| (d.title, d.controls.join(", "))).unwrap_or_default();
            writeln!(out, "    <testcase classname=\"annexa.{}\" name=\"{} ({})\">", xml(id), xml(title), xml(&controls))
        };
        for c in &o.checks {
            case(out, &c.check)?;
            if c.open > 0 {
                write!(out, "      <failure message=\"{} finding(s)\" type=\"{}\">", c.open, xml(&c.check))?;
                let mut first = true;
                self.app.findings_each(&self.filter(Some(&c.check)), false, |f| {
                    let f = f.finding;
                    if !first {
                        out.write_all(b"\n")?;
                    }
                    first = false;
                    write!(out, "{}", xml(&format!("[{}] {} {}: {}", f.severity, f.id, f.subject.key, f.message)))
                })?;
                writeln!(out, "</failure>")?;
            }
            writeln!(out, "    </testcase>")?;
        }
        for s in self.not_evaluated {
            case(out, &s.check)?;
            match s.reason.strip_prefix("error: ") {
                Some(error) => writeln!(out, "      <error message=\"{}\"/>", xml(error))?,
                None => writeln!(out, "      <skipped message=\"not evaluated: {}\"/>", xml(&s.reason))?,
            }
            writeln!(out, "    </testcase>")?;
        }
        writeln!(out, "  </testsuite>\n</testsuites>")?;
        Ok(())
    }
}

/// `A.5.18` as numbers, for sorting controls in their catalogue order.
fn control_order(id: &str) -> (u32, u32, u32) {
    let mut n = id.trim_start_matches("A.").split('.').map(|p| p.parse().unwrap_or(u32::MAX));
    (n.next().unwrap_or(u32::MAX), n.next().unwrap_or(u32::MAX), n.next().unwrap_or(0))
}

/// `text`, cut to `width` characters with an ellipsis.
fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut s: String = text.chars().take(width.saturating_sub(1)).collect();
    s.push('…');
    s
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

/// The columns of findings as CSV (`audit --format csv`, `findings list --format csv`).
const CSV_COLUMNS: [&str; 9] = ["id", "check", "severity", "controls", "subject_kind", "subject", "label", "message", "evidence"];

/// Writes findings as CSV, streaming: `read` hands each to the writer as it reads it.
/// Cells that a spreadsheet would run as a formula are neutralised ([`csv_cell`]).
pub fn write_findings_csv(
    out: &mut impl Write,
    read: impl FnOnce(&mut dyn FnMut(annexa_store::StoredFinding) -> std::io::Result<()>) -> annexa_app::Result<()>,
) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(CSV_COLUMNS)?;
    read(&mut |f| write_csv_row(&mut w, &f.finding))?;
    w.flush()?;
    Ok(())
}

fn write_csv_row<W: Write>(w: &mut csv::Writer<W>, f: &Finding) -> std::io::Result<()> {
    let evidence = serde_json::to_string(&f.evidence).map_err(std::io::Error::other)?;
    let row = [
        f.id.as_str(),
        f.check.as_str(),
        f.severity.as_str(),
        &f.controls.join(" "),
        f.subject.kind.as_str(),
        f.subject.key.as_str(),
        f.subject.label.as_str(),
        f.message.as_str(),
        evidence.as_str(),
    ];
    w.write_record(row.iter().map(|c| csv_cell(c).into_owned())).map_err(std::io::Error::other)
}
