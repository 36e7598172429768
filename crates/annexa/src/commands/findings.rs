//! `annexa findings list|show`: read stored findings; `assign|accept|dismiss|reopen|comment`:
//! decide about them.

use crate::cli::{FindingSelect, FindingsCommand, GlobalArgs, StatusFilter};
use crate::commands::setup::app_with_config;
use crate::output::{print_json, Format, Table};
use annexa_app::lifecycle::Selection;
use annexa_store::lifecycle::Triage;
use annexa_store::{FindingFilter, FindingStatus};
use std::io::Write;
use std::process::ExitCode;

/// Findings a table shows when `--limit` does not say.
const TABLE_PAGE: u64 = 100;

pub fn run(global: &GlobalArgs, cmd: FindingsCommand) -> anyhow::Result<ExitCode> {
    let app = app_with_config(global)?;
    match cmd {
        FindingsCommand::List { status, check, severity, control, system, subject, run, limit, offset, state, overdue } => {
            // A lifecycle state says which findings by itself (remediated ones are resolved).
            let status = match status {
                _ if state.is_some() => None,
                StatusFilter::Open => Some(FindingStatus::Open),
                StatusFilter::Resolved => Some(FindingStatus::Resolved),
                StatusFilter::All => None,
            };
            check_exists(check.as_deref())?;
            let min_severity = severity;
            let controls = controls_of(control.as_deref())?;
            let overdue_at = overdue.then(chrono::Utc::now);
            // A table is read by a person: a page of it unless --limit says otherwise. JSON
            // and CSV are read by programs: all of it, written as it is read.
            let table = !matches!(global.format, Format::Json | Format::Csv);
            let limit = if table { Some(limit.unwrap_or(TABLE_PAGE)) } else { limit };
            let filter = FindingFilter {
                status,
                check,
                min_severity,
                controls,
                system,
                subject,
                run,
                state,
                overdue_at,
                limit,
                offset,
                ..Default::default()
            };
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let mut shown = 0u64;
            let total = match global.format {
                Format::Json => {
                    out.write_all(b"[")?;
                    let total = app.findings_each(&filter, true, |f| {
                        out.write_all(if shown == 0 { b"\n" } else { b",\n" })?;
                        shown += 1;
                        serde_json::to_writer(&mut out, &f).map_err(std::io::Error::other)
                    })?;
                    out.write_all(b"\n]\n")?;
                    total
                }
                Format::Csv => {
                    let mut total = None;
                    crate::commands::audit::write_findings_csv(&mut out, |each| {
                        total = app.findings_each(&filter, true, |f| {
                            shown += 1;
                            each(f)
                        })?;
                        Ok(())
                    })?;
                    total
                }
                Format::Table | Format::Junit | Format::Xlsx | Format::Html => {
                    let mut table = Table::new(&["id", "severity", "check", "state", "due", "subject", "message"]);
                    let total = app.findings_each(&filter, true, |f| {
                        shown += 1;
                        table.push(vec![
                            f.finding.id,
                            f.finding.severity.to_string(),
                            f.finding.check,
                            f.state.to_string(),
                            f.handling.due.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default(),
                            f.finding.subject.key,
                            f.finding.message,
                        ]);
                        Ok(())
                    })?;
                    table.write_aligned(&mut out)?;
                    total
                }
            };
            out.flush()?;
            let total = total.unwrap_or(shown);
            let range = if shown == total {
                String::new()
            } else if shown == 0 {
                "none of ".to_string()
            } else {
                format!("{}-{} of ", offset + 1, offset + shown)
            };
            let more = if table && offset + shown < total {
                format!("; --offset {} for the next page, --format csv or json for all", offset + shown)
            } else {
                String::new()
            };
            eprintln!("{range}{} finding(s){more}; `annexa findings show ID` shows the evidence", crate::commands::setup::thousands(total));
        }
        FindingsCommand::Show { id } => {
            let f = app.finding(&id)?;
            let comments = app.finding_comments(&f.finding.id)?;
            match global.format {
                Format::Json | Format::Csv | Format::Junit => {
                    let mut json = serde_json::to_value(&f)?;
                    json["comments"] = serde_json::to_value(&comments)?;
                    print_json(&json)?
                }
                Format::Table | Format::Xlsx | Format::Html => {
                    let x = &f.finding;
                    println!("{}  [{}] {}", x.id, x.severity, x.check);
                    println!("  {}", x.message);
                    println!("  subject:   {} {} ({})", x.subject.kind, x.subject.key, x.subject.label);
                    println!("  controls:  {}", x.controls.join(", "));
                    println!(
                        "  status:    {} (first seen in run #{}, last in run #{}{})",
                        if f.status == FindingStatus::Open { "open" } else { "resolved" },
                        f.first_run,
                        f.last_run,
                        f.resolved_run.map(|r| format!(", resolved in run #{r}")).unwrap_or_default()
                    );
                    print_handling(&f);
                    for c in &comments {
                        println!("  comment:   {} {}: {}", c.at.format("%Y-%m-%d %H:%M"), c.actor, c.text);
                    }
                    if let Some(t) = x.evidence.as_of {
                        println!("  as of:     {}", t.to_rfc3339());
                    }
                    println!("  evidence:");
                    for r in &x.evidence.records {
                        println!("    {} {}: {} line {} (import #{}, sha256 {})", r.record, r.key, r.file, r.line, r.import_id, r.sha256);
                    }
                    for (k, v) in &x.evidence.values {
                        match v.as_array() {
                            // Details of several records (the assignments a finding covers): one line each.
                            Some(items) if !items.is_empty() && items.iter().all(serde_json::Value::is_object) => {
                                println!("    {k}:");
                                for item in items.iter().filter_map(serde_json::Value::as_object) {
                                    let name = item.get("entitlement").and_then(serde_json::Value::as_str);
                                    let fields: Vec<String> = item
                                        .iter()
                                        .filter(|(k, _)| name.is_none() || *k != "entitlement")
                                        .map(|(k, v)| format!("{k} = {v}"))
                                        .collect();
                                    match name {
                                        Some(name) => println!("      - {name}: {}", fields.join(", ")),
                                        None => println!("      - {}", fields.join(", ")),
                                    }
                                }
                            }
                            _ => println!("    {k} = {v}"),
                        }
                    }
                    if !x.evidence.parameters.is_empty() {
                        println!("  parameters: {}", serde_json::Value::Object(x.evidence.parameters.clone()));
                    }
                }
            }
        }
        FindingsCommand::Assign { select, owner, due } => {
            let due = due.as_deref().map(|d| date("--due", d)).transpose()?;
            decide(global, &app, &select, &Triage::Assign { owner, due })?;
        }
        FindingsCommand::Accept { select, approver, reason, expires } => {
            let expires = date("--expires", &expires)?;
            decide(global, &app, &select, &Triage::Accept { approver, reason, expires })?;
        }
        FindingsCommand::Dismiss { select, reason } => decide(global, &app, &select, &Triage::Dismiss { reason })?,
        FindingsCommand::Reopen { select, reason } => decide(global, &app, &select, &Triage::Reopen { reason })?,
        FindingsCommand::Comment { select, text } => decide(global, &app, &select, &Triage::Comment { text })?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The lifecycle lines of `findings show`: state, owner and due date, acceptance or
/// dismissal.
fn print_handling(f: &annexa_store::StoredFinding) {
    let h = &f.handling;
    let day = |t: annexa_core::time::Instant| t.format("%Y-%m-%d").to_string();
    let mut line = format!("  state:     {}", f.state);
    if let Some(owner) = &h.owner {
        line.push_str(&format!(", owner {owner}"));
    }
    if let Some(due) = h.due {
        line.push_str(&format!(", due {}", day(due)));
    }
    if let Some(approver) = &h.approver {
        line.push_str(&format!(", accepted by {approver}"));
    }
    if let Some(expires) = h.expires {
        line.push_str(&format!(" until {}", day(expires)));
    }
    if let Some(reason) = &h.reason {
        line.push_str(&format!(" ({reason})"));
    }
    if let (Some(at), Some(by)) = (h.updated_at, &h.updated_by) {
        line.push_str(&format!("; last decided {} by {by}", day(at)));
    }
    println!("{line}");
}

/// Applies a decision to the selected findings and says what it did.
fn decide(global: &GlobalArgs, app: &annexa_app::App, select: &FindingSelect, triage: &Triage) -> anyhow::Result<()> {
    let filtered = select.check.is_some()
        || select.severity.is_some()
        || select.control.is_some()
        || select.system.is_some()
        || select.subject.is_some()
        || select.state.is_some();
    let selection = match (select.ids.is_empty(), filtered) {
        (false, false) => Selection::Ids(select.ids.clone()),
        (true, true) => {
            check_exists(select.check.as_deref())?;
            Selection::Filter(FindingFilter {
                check: select.check.clone(),
                min_severity: select.severity,
                controls: controls_of(select.control.as_deref())?,
                system: select.system.clone(),
                subject: select.subject.clone(),
                state: select.state,
                ..Default::default()
            })
        }
        (false, true) => anyhow::bail!("give finding ids or a filter (--check, --severity, ...), not both"),
        (true, false) => {
            anyhow::bail!("which findings? give their ids, or a filter: --check, --severity, --control, --system, --subject, --state")
        }
    };
    let done = app.triage(&selection, triage)?;
    if global.format == Format::Json {
        print_json(&done)?;
    } else {
        let what = match done.state {
            Some(s) => format!("now {s}"),
            None => "commented".to_string(),
        };
        println!(
            "{} finding(s) {what} (ledger entry #{})",
            crate::commands::setup::thousands(done.findings.len() as u64),
            done.ledger_entries.first().copied().unwrap_or_default()
        );
    }
    Ok(())
}

/// A date or time given on the command line.
fn date(flag: &str, s: &str) -> anyhow::Result<annexa_core::time::Instant> {
    annexa_core::time::parse_instant(s)
        .ok_or_else(|| anyhow::anyhow!("{flag} {s:?} is not a date: expected 2027-01-31 or RFC 3339 (2027-01-31T00:00:00Z)"))
}

fn check_exists(check: Option<&str>) -> anyhow::Result<()> {
    match check {
        Some(c) if annexa_engine::checks::check(c).is_none() => anyhow::bail!("{}", annexa_engine::UnknownCheck(c.to_string())),
        _ => Ok(()),
    }
}

/// The 2022 controls a `--control` names: a 2013 id finds every 2022 control it maps to.
fn controls_of(control: Option<&str>) -> anyhow::Result<Vec<String>> {
    let Some(c) = control else { return Ok(Vec::new()) };
    let found = annexa_core::catalog::Catalog::get().resolve(c);
    if found.is_empty() {
        anyhow::bail!("--control {c:?} is not an Annex A control (2022 or 2013 id)");
    }
    Ok(found.iter().map(|x| x.id.clone()).collect())
}
